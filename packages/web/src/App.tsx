import { lazy, Suspense, type ComponentType } from 'react';
import { Route, Routes } from 'react-router';
import { RequireAuth } from './auth/RequireAuth.js';
import { Layout } from './components/Layout.js';
import { DashboardPage } from './pages/Dashboard.js';
import { LoginPage } from './pages/Login.js';
import { NotFoundPage } from './pages/NotFound.js';

/** A page loaded when first visited: sign-in and the dashboard come with the first download, the rest on demand. */
function onDemand<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

const AgentsPage = onDemand(() => import('./pages/Agents.js'), 'AgentsPage');
const RegisterAgentPage = onDemand(() => import('./pages/RegisterAgent.js'), 'RegisterAgentPage');
const AgentDetailPage = onDemand(() => import('./pages/AgentDetail.js'), 'AgentDetailPage');
const ApiKeysPage = onDemand(() => import('./pages/ApiKeys.js'), 'ApiKeysPage');
const SdkTokensPage = onDemand(() => import('./pages/SdkTokens.js'), 'SdkTokensPage');
const AuditPage = onDemand(() => import('./pages/Audit.js'), 'AuditPage');
const AlertsPage = onDemand(() => import('./pages/Alerts.js'), 'AlertsPage');
const UsersPage = onDemand(() => import('./pages/Users.js'), 'UsersPage');
const SettingsPage = onDemand(() => import('./pages/Settings.js'), 'SettingsPage');
const ResetPasswordPage = onDemand(() => import('./pages/ResetPassword.js'), 'ResetPasswordPage');

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      {/* Signed out, outside the layout: someone who forgot their password, with the link an admin gave them. */}
      <Route
        path="/reset-password"
        element={
          <Suspense fallback={null}>
            <ResetPasswordPage />
          </Suspense>
        }
      />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="agents" element={<AgentsPage />} />
        <Route path="agents/new" element={<RegisterAgentPage />} />
        <Route path="agents/:agentId" element={<AgentDetailPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="sdk-tokens" element={<SdkTokensPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="alerts" element={<AlertsPage />} />
        <Route path="users" element={<UsersPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
