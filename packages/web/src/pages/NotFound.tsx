import { Button } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState } from '../components/EmptyState.js';
import { usePageTitle } from '../lib/usePageTitle.js';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <EmptyState title="Page not found" action={<Button component={Link} to="/">Go to the dashboard</Button>}>
      There is nothing at this address.
    </EmptyState>
  );
}
