import { Route, Routes } from 'react-router';
import { RequireAuth } from './auth/RequireAuth.js';
import { Layout } from './components/Layout.js';
import { AgentDetailPage } from './pages/AgentDetail.js';
import { AgentsPage } from './pages/Agents.js';
import { AlertsPage } from './pages/Alerts.js';
import { ApiKeysPage } from './pages/ApiKeys.js';
import { AuditPage } from './pages/Audit.js';
import { DashboardPage } from './pages/Dashboard.js';
import { LoginPage } from './pages/Login.js';
import { NotFoundPage } from './pages/NotFound.js';
import { RegisterAgentPage } from './pages/RegisterAgent.js';
import { SdkTokensPage } from './pages/SdkTokens.js';
import { SettingsPage } from './pages/Settings.js';
import { UsersPage } from './pages/Users.js';

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
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
