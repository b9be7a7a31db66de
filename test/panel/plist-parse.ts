/**
 * Strict parsers for the set-up files the panel makes, run in python3: plistlib for property lists
 * (as a Mac reads them) and ElementTree for plain XML, both on expat, which refuses anything that
 * is not well-formed.
 */
import { spawnSync } from 'node:child_process';

/** Parses with plistlib and returns the tree as JSON (data as base64), or throws plistlib's error. */
export function parsePlist(text: string): Record<string, unknown> {
  const script = `
import base64, json, plistlib, sys
def conv(v):
    if isinstance(v, bytes): return {"$data": base64.b64encode(v).decode()}
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    if isinstance(v, list): return [conv(x) for x in v]
    return v
print(json.dumps(conv(plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML))))
`;
  const result = spawnSync('python3', ['-c', script], { input: text, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`plistlib refused the profile: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** Parses with ElementTree (expat) and returns the tree as nested JSON, or throws. */
export function parseXml(text: string): unknown {
  const script = `
import json, sys, xml.etree.ElementTree as ET
def conv(e): return {"tag": e.tag, "attrib": e.attrib, "text": (e.text or "").strip(), "children": [conv(c) for c in e]}
print(json.dumps(conv(ET.fromstring(sys.stdin.buffer.read()))))
`;
  const result = spawnSync('python3', ['-c', script], { input: text, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`not well-formed XML: ${result.stderr}`);
  return JSON.parse(result.stdout);
}
