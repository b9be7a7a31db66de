"""Python's managesieve (PyPI) against Mallard: STARTTLS, PLAIN and LOGIN, every script command.

Reads {"port", "username", "password", "script", "bad_script"} as JSON on stdin and prints what
it saw as JSON; the checks are in clients.test.ts.
"""
import json
import sys

import managesieve

params = json.load(sys.stdin)
out = {}


def status(client):
    return [client.response_code, client.response_text]


client = managesieve.MANAGESIEVE('127.0.0.1', params['port'])
out['tls_offered'] = client.supports_tls
out['starttls'] = client.starttls(verify=False)[0]
out['tls_offered_after'] = client.supports_tls
out['implementation'] = client.implementation
out['sieve_extensions'] = client.capabilities
out['login_mechanisms'] = client.loginmechs
out['wrong_password'] = client.authenticate('PLAIN', params['username'], 'wrong password')
out['plain'] = client.authenticate('PLAIN', params['username'], params['password'])
out['havespace'] = client.havespace('vacation', len(params['script']))
out['put'] = client.putscript('vacation', params['script'])
out['put_bad'] = [client.putscript('broken', params['bad_script'])] + status(client)
out['put_second'] = client.putscript('spare', 'keep;\r\n')
out['setactive'] = client.setactive('vacation')
out['list'] = client.listscripts()
typ, content = client.getscript('vacation')
out['get'] = [typ, content]
out['get_missing'] = [client.getscript('nosuch')[0]] + status(client)
out['delete_active'] = [client.deletescript('vacation')] + status(client)
out['delete'] = client.deletescript('spare')
out['deactivate'] = client.setactive('')
out['list_after'] = client.listscripts()
out['logout'] = client.logout()

# LOGIN sends the name and the password right after the command, without waiting for the
# challenges: the server must read them as the answers.
second = managesieve.MANAGESIEVE('127.0.0.1', params['port'])
second.starttls(verify=False)
out['login'] = second.authenticate('LOGIN', params['username'], params['password'])
out['login_list'] = second.listscripts()
second.logout()

print(json.dumps(out))
