from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
import base64
import time
import json

# Load agent's private key
with open('agent_private_key.pem', 'rb') as f:
    private_key = serialization.load_pem_private_key(f.read(), password=None)

# Create signature for action verification
timestamp = int(time.time())
nonce = base64.b64encode(os.urandom(16)).decode()
message = f"{agent_id}:{action}:{resource}:{timestamp}:{nonce}"

signature = private_key.sign(message.encode())
signature_b64 = base64.b64encode(signature).decode()

# Send verified request
response = requests.post(
    f'https://aim.example.com/api/v1/agents/{agent_id}/verify-action',
    headers={'Authorization': f'Bearer {token}'},
    json={
        'action': action,
        'resource': resource,
        'signature': signature_b64,
        'timestamp': timestamp,
        'nonce': nonce
    }
)
