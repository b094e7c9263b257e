import { createTheme, darken, lighten, luminance, Menu, Modal, PasswordInput, type CSSVariablesResolver } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  components: {
    // Mantine's close button is an icon with no name of its own (WCAG 4.1.2).
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    // The placeholder is a bare div inside role="menu", which may hold only menu items (WCAG 1.3.1);
    // without it the first item takes focus on opening, as the ARIA menu pattern has it.
    Menu: Menu.extend({ defaultProps: { withInitialFocusPlaceholder: false } }),
    // Mantine takes the show-password toggle out of the Tab order and hides it from screen readers; keyboard users
    // need it too (WCAG 2.1.1). Its pressed state says whether the password is shown.
    PasswordInput: PasswordInput.extend({ defaultProps: { visibilityToggleButtonProps: { tabIndex: 0, 'aria-label': 'Show password' } } }),
  },
});

/** WCAG 2.1 §1.4.3 asks 4.5:1 for text; a little more leaves room for a table row's hover tint. */
const AA = 4.6;

function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (high + 0.05) / (low + 0.05);
}

/** The colour darkened in small steps until it reads on the background: the same hue, as light as AA allows. */
function readableOn(color: string, background: string): string {
  let out = color;
  for (let i = 0; i < 40 && contrast(out, background) < AA; i += 1) out = darken(out, 0.04);
  return out;
}

/**
 * Mantine's light scheme draws text in shade 6 (dimmed grey, links, light and outline badges, alert titles, subtle
 * buttons) and white on shade 6 (filled buttons): 1.7:1 to 4.3:1, under AA. Each is darkened just enough to pass.
 */
export const readableColors: CSSVariablesResolver = (t) => {
  const white = t.white;
  const light: Record<string, string> = {
    '--mantine-color-dimmed': readableOn(t.colors.gray[6], t.colors.gray[1]),
    '--mantine-color-anchor': readableOn(t.colors[t.primaryColor]![6], white),
    '--mantine-color-error': readableOn(t.colors.red[6], white),
    // Placeholders are hints, not labels, but still text to read (gray 5 is about 2:1).
    '--mantine-color-placeholder': readableOn(t.colors.gray[5], white),
  };
  for (const [name, shades] of Object.entries(t.colors)) {
    if (name === 'dark') continue;
    const base = shades[6];
    const filled = readableOn(base, white);
    Object.assign(light, {
      [`--mantine-color-${name}-text`]: filled,
      [`--mantine-color-${name}-filled`]: filled,
      [`--mantine-color-${name}-filled-hover`]: darken(filled, 0.1),
      // The light background is shade 6 at 10-12 % over white.
      [`--mantine-color-${name}-light-color`]: readableOn(base, lighten(base, 0.88)),
      [`--mantine-color-${name}-outline`]: filled,
    });
  }
  return { variables: {}, light, dark: {} };
};
