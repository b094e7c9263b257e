import { Alert, Button, Code, Group, Paper, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { agents } from '../api/endpoints.js';
import type { RegisteredAgent } from '../api/types.js';
import { CapabilitiesInput } from '../components/CapabilitiesInput.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { PageHeader } from '../components/PageHeader.js';
import { invalidCapabilities } from '../lib/capabilities.js';
import { downloadFile } from '../lib/download.js';
import { ed25519Supported, generateAgentKeyPair } from '../lib/keys.js';

/** Where the browser cannot make the key pair, the other ways to register, instead of a raw WebCrypto error. */
function NoEd25519() {
  return (
    <Alert color="orange" variant="light" title="This browser cannot make Ed25519 keys" role="alert">
      {window.isSecureContext
        ? 'Its WebCrypto has no Ed25519 (it came in Chrome 113, Firefox 129 and Safari 17). '
        : 'WebCrypto only works on HTTPS pages (or on localhost), and this page came over plain HTTP. '}
      Register the agent from a terminal with the CLI, <Code>aim agents register --name NAME</Code>, which keeps the private key on that
      machine, or with the SDK; or use an up-to-date browser over HTTPS.
    </Alert>
  );
}

/**
 * The key pair is generated here, in the browser (WebCrypto Ed25519). Only the public key is sent; the private key
 * is offered as a download and dropped from memory when the person leaves the page.
 */
export function RegisterAgentPage() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<string | null>('agent');
  const [description, setDescription] = useState('');
  const [capabilities, setCapabilities] = useState<string[]>([]);
  const [result, setResult] = useState<{ agent: RegisteredAgent; privateKeyPem: string } | null>(null);
  const [downloaded, setDownloaded] = useState(false);
  // null while the browser is being asked.
  const [supported, setSupported] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    void ed25519Supported().then((answer) => live && setSupported(answer));
    return () => {
      live = false;
    };
  }, []);

  const register = useMutation({
    mutationFn: async () => {
      const pair = await generateAgentKeyPair();
      const agent = await agents.register({
        name: name.trim(),
        type: type ?? 'agent',
        capabilities,
        ...(description.trim() ? { description: description.trim() } : {}),
        public_key: pair.publicKey,
      });
      return { agent, privateKeyPem: pair.privateKeyPem };
    },
    onSuccess: (value) => {
      setResult(value);
      void queryClient.invalidateQueries({ queryKey: ['agents'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate();
  };

  if (result) {
    const fileName = `${result.agent.name.replace(/[^\w.-]+/g, '_')}.private.pem`;
    return (
      <>
        <PageHeader title="Agent registered" description={result.agent.name} />
        <Paper withBorder radius="md" p="lg" maw={720}>
          <Stack>
            <Alert color="yellow" variant="light" title="Download the private key now" role="status">
              The private key was generated in this browser and never sent to AIM. This is the only chance to save it: AIM cannot show or recover it.
            </Alert>
            <Group>
              <Button
                onClick={() => {
                  downloadFile(fileName, result.privateKeyPem, 'application/x-pem-file');
                  setDownloaded(true);
                }}
              >
                Download private key
              </Button>
              {downloaded && (
                <Text size="sm" c="teal">
                  Saved as {fileName}
                </Text>
              )}
            </Group>
            <Text size="sm">
              Agent id: <Code data-testid="agent-id">{result.agent.agent_id}</Code>
            </Text>
            <Text size="sm">
              Public key: <Code>{result.agent.public_key}</Code>
            </Text>
            <Group>
              <Button component={Link} to={`/agents/${result.agent.agent_id}`} variant="light">
                Open the agent
              </Button>
              <Button
                variant="default"
                onClick={() => {
                  setResult(null);
                  setDownloaded(false);
                  setName('');
                  setDescription('');
                  setCapabilities([]);
                  register.reset();
                }}
              >
                Register another
              </Button>
            </Group>
          </Stack>
        </Paper>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Register an agent" description="A new Ed25519 key pair is generated in your browser; only its public key is sent." />
      <Paper withBorder radius="md" p="lg" maw={720}>
        <form onSubmit={submit} aria-label="Register an agent">
          <Stack>
            {supported === false && <NoEd25519 />}
            <ErrorNotice error={register.error} title="Could not register the agent" />
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} description="Unique in your organization" />
            <Select
              label="Type"
              value={type}
              onChange={setType}
              allowDeselect={false}
              data={[
                { value: 'agent', label: 'Agent' },
                { value: 'mcp_server', label: 'MCP server' },
              ]}
            />
            <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} autosize minRows={2} />
            <CapabilitiesInput label="Capabilities" value={capabilities} onChange={setCapabilities} placeholder="files:read" />
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/agents">
                Cancel
              </Button>
              <Button type="submit" loading={register.isPending} disabled={supported !== true || invalidCapabilities(capabilities).length > 0}>
                Generate key and register
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}
