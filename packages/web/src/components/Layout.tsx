import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Skeleton, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { Suspense, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import type { Scope } from '@aim/protocol';
import { useAuth } from '../auth/AuthProvider.js';
import { ConfirmIdentityDialog } from './ConfirmIdentityDialog.js';
import { ErrorNotice } from './ErrorNotice.js';

interface NavItem {
  to: string;
  label: string;
  /** Shown to people whose role grants one of these scopes. */
  anyOf?: Scope[];
}

const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard' },
  { to: '/agents', label: 'Agents', anyOf: ['agents:read'] },
  { to: '/api-keys', label: 'API keys', anyOf: ['api_keys:manage'] },
  { to: '/sdk-tokens', label: 'SDK tokens' },
  { to: '/audit', label: 'Audit log', anyOf: ['audit:read'] },
  { to: '/alerts', label: 'Alerts', anyOf: ['audit:read', 'alerts:manage'] },
  { to: '/users', label: 'Users', anyOf: ['admin'] },
  { to: '/settings', label: 'Settings' },
];

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { user, logout, can } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [signOutError, setSignOutError] = useState<unknown>(null);
  // On a phone the navigation slides over the page: whichever of the two is out of sight is inert, so Tab never
  // lands on a link off-screen or on content hidden under the open navigation (WCAG 2.4.3, 2.4.7).
  const narrow = useMediaQuery('(max-width: 47.99375em)') ?? false; // below AppShell's `sm` breakpoint, as hiddenFrom="sm"
  const items = NAV.filter((item) => !item.anyOf || item.anyOf.some((scope) => can(scope)));
  const isActive = (to: string) => (to === '/' ? location.pathname === '/' : location.pathname.startsWith(to));

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            {/* Named by its visible text, so speech users can say what they see (WCAG 2.5.3). */}
            <UnstyledButton component={Link} to="/">
              <Group gap={8} wrap="nowrap">
                <img src="/favicon.svg" width={26} height={26} alt="" />
                <Text fw={700} size="lg">
                  AIM
                </Text>
                <Text c="dimmed" size="sm" visibleFrom="xs">
                  Agent Identity Management
                </Text>
              </Group>
            </UnstyledButton>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="md" data-testid="signed-in-as">
              {user?.email}
            </Text>
            {user && (
              <Badge variant="light" visibleFrom="xs">
                {user.role}
              </Badge>
            )}
            <Button
              variant="default"
              size="xs"
              onClick={() => {
                setSignOutError(null);
                logout().then(() => navigate('/login', { replace: true }), setSignOutError);
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main" inert={narrow && !opened}>
        <ScrollArea>
          {items.map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={isActive(item.to)}
              onClick={close}
              aria-current={isActive(item.to) ? 'page' : undefined}
              styles={{ root: { borderRadius: 6 } }}
            />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="content" tabIndex={-1} style={{ outline: 'none' }} inert={narrow && opened}>
        {signOutError !== null && (
          <div style={{ marginBottom: 16 }}>
            <ErrorNotice error={signOutError} title="Could not sign out: you are still signed in" />
          </div>
        )}
        {/* Pages other than the dashboard load on first visit (App.tsx); the skeleton holds their place meanwhile. */}
        <Suspense fallback={<Skeleton h={240} aria-label="Loading" />}>
          <Outlet />
        </Suspense>
        <ConfirmIdentityDialog />
      </AppShell.Main>
    </AppShell>
  );
}
