import { opaqueToken } from '../core/opaque-token.js';

/** Refresh tokens: `rt_<token id>.<secret>`. */
const refreshToken = opaqueToken('rt_');

export const formatRefreshToken = refreshToken.format;
export const parseRefreshToken = refreshToken.parse;
