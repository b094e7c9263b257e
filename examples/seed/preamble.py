# The only addition to the seed's snippets: what they assume the caller defines, and where "aim.example.com" is.
# The tests run `preamble.py` + a snippet, unchanged, against a live server.
import atexit
import json
import os

import requests
import requests.adapters

# Inputs the snippets use without defining them.
agent_id = os.environ.get('AIM_AGENT_ID')
action = os.environ.get('AIM_ACTION')
resource = os.environ.get('AIM_RESOURCE')
token = os.environ.get('AIM_TOKEN')

# The snippets address https://aim.example.com with a placeholder API key. Their requests go to the live server
# at AIM_URL, with the real key in place of the placeholder; nothing else about a request changes.
_AIM_URL = os.environ['AIM_URL'].rstrip('/')
_PLACEHOLDER_KEY = 'ak_live_xxxxxxxxxxxxxxxx'
_send = requests.adapters.HTTPAdapter.send


def _to_live_server(self, request, **kwargs):
    if request.url.startswith('https://aim.example.com/'):
        request.url = _AIM_URL + request.url[len('https://aim.example.com'):]
    if request.headers.get('X-API-Key') == _PLACEHOLDER_KEY and os.environ.get('AIM_API_KEY'):
        request.headers['X-API-Key'] = os.environ['AIM_API_KEY']
    return _send(self, request, **kwargs)


requests.adapters.HTTPAdapter.send = _to_live_server


# After the snippet: report what the server answered, for the test to check.
@atexit.register
def _report():
    answer = globals().get('response')
    if answer is not None:
        print('AIM-RESULT ' + json.dumps({'status': answer.status_code, 'body': answer.json()}))
