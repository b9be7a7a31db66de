"""Drives Mallard's POP3 server with Python's poplib and a raw socket; prints one JSON document.

Usage: poplib_session.py HOST PORT TLS_PORT USERNAME PASSWORD
"""
import base64
import json
import poplib
import socket
import ssl
import sys

host, port, tls_port, username, password = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
out = {}


def b64(data):
    return base64.b64encode(data).decode('ascii')


def joined(lines):
    """poplib gives lines without CRLF and with dot-stuffing undone."""
    return b''.join(line + b'\r\n' for line in lines)


# 1. Plain port, STLS, USER/PASS, every read command, DELE/RSET, then a DELE committed by QUIT.
client = poplib.POP3(host, port, timeout=10)
out['welcome'] = client.getwelcome().decode()
out['capa_plain'] = sorted(client.capa().keys())
client.stls(context=context)
out['capa_tls'] = sorted(client.capa().keys())
client.user(username)
client.pass_(password)
count, size = client.stat()
out['stat'] = [count, size]
response, listing, _ = client.list()
out['list'] = [line.decode() for line in listing]
out['list_1'] = client.list(1).decode()
response, uids, _ = client.uidl()
out['uidl'] = [line.decode() for line in uids]
out['messages'] = []
for number in range(1, count + 1):
    response, lines, octets = client.retr(number)
    out['messages'].append({'status': response.decode(), 'octets': octets, 'data': b64(joined(lines))})
response, lines, _ = client.top(1, 0)
out['top_1_0'] = b64(joined(lines))
out['noop'] = client.noop().decode()
out['dele_2'] = client.dele(2).decode()
try:
    client.retr(2)
    out['retr_deleted'] = 'no error'
except poplib.error_proto as error:
    out['retr_deleted'] = str(error.args[0].decode())
out['rset'] = client.rset().decode()
out['dele_1'] = client.dele(1).decode()
out['quit'] = client.quit().decode()

# 2. Implicit TLS port, AUTH PLAIN with an initial response: message 1 is gone, the rest renumbered.
client = poplib.POP3_SSL(host, tls_port, context=context, timeout=10)
token = base64.b64encode(b'\0' + username.encode() + b'\0' + password.encode()).decode()
out['auth_plain'] = client._shortcmd('AUTH PLAIN ' + token).decode()
out['stat_after'] = list(client.stat())
response, uids, _ = client.uidl()
out['uidl_after'] = [line.decode() for line in uids]
try:
    second = poplib.POP3(host, port, timeout=10)
    second.user(username)
    second.pass_(password)
    out['in_use'] = 'no error'
except poplib.error_proto as error:
    out['in_use'] = str(error.args[0].decode())
second.quit()
client.quit()

# 3. Pipelining (RFC 2449): every command in one write, answers read back in order.
raw = socket.create_connection((host, port), timeout=10)
commands = [
    'CAPA',
    'USER ' + username,
    'PASS ' + password,
    'STAT',
    'LIST',
    'UIDL',
    'RETR 1',
    'TOP 2 1',
    'DELE 1',
    'NOOP',
    'RSET',
    'QUIT',
]
raw.sendall(''.join(command + '\r\n' for command in commands).encode())
received = b''
while True:
    chunk = raw.recv(65536)
    if not chunk:
        break
    received += chunk
raw.close()
out['pipelined'] = b64(received)
out['pipelined_commands'] = commands

print(json.dumps(out))
