// Login and get JWT token
const response = await fetch('https://aim.example.com/api/v1/public/login', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    email: 'user@example.com',
    password: 'SecurePassword123!'
  })
});

const { access_token, refresh_token } = await response.json();

// Use token for authenticated requests
const agents = await fetch('https://aim.example.com/api/v1/agents', {
  headers: {
    'Authorization': `Bearer ${access_token}`
  }
});
