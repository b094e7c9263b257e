import requests

# Use API key for SDK operations
headers = {
    'X-API-Key': 'ak_live_xxxxxxxxxxxxxxxx',
    'Content-Type': 'application/json'
}

# Register agent programmatically
response = requests.post(
    'https://aim.example.com/api/v1/sdk-api/agents/register',
    headers=headers,
    json={
        'name': 'my-automated-agent',
        'type': 'automation',
        'capabilities': ['data_processing', 'api_calls']
    }
)

agent_data = response.json()
print(f"Agent registered: {agent_data['agent_id']}")
