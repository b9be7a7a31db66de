/**
 * The scripts of the Sieve oracle corpus. Each runs on every message of messages.ts, through
 * Pigeonhole's sieve-test and through ours, and the actions must be the same. Grouped by extension;
 * a few are meant not to compile, or to fail at run time, and both sides must agree on that too.
 */
export const SCRIPTS: Record<string, string> = {
  // Core (RFC 5228)
  'empty script': '',
  'comment only': '# nothing to do\n/* really\n nothing */\n',
  keep: 'keep;',
  discard: 'discard;',
  stop: 'stop; discard;',
  redirect: 'redirect "archive@example.org";',
  'two redirects, one twice': 'redirect "a@example.org"; redirect "b@example.org"; redirect "a@example.org";',
  'too many redirects': [1, 2, 3, 4, 5].map((n) => `redirect "r${n}@example.org";`).join('\n'),
  'header is': 'if header :is "subject" "Hello World meeting" { discard; }',
  'header contains casemap': 'if header :contains "Subject" "WORLD" { redirect "w@example.org"; }',
  'header contains octet': 'if header :comparator "i;octet" :contains "Subject" "WORLD" { discard; }',
  'header matches': 'if header :matches "subject" "*version ?.0*" { discard; }',
  'header matches escaped': 'if header :matches "subject" "\\\\[acme-users\\\\]*" { discard; }',
  'header decoded word': 'if header :contains "subject" "Café" { discard; }',
  'header several names and keys':
    'if header :contains ["x-nothing", "to", "cc"] ["team@", "acme-users@"] { redirect "t@example.org"; }',
  exists: 'if exists ["List-Id", "Precedence"] { discard; }',
  'not exists': 'if not exists "Message-ID" { discard; }',
  'size over': 'if size :over 500 { discard; }',
  'size under with quantifier': 'if size :under 1K { redirect "small@example.org"; }',
  'address all': 'if address :all "from" "alice+news@example.com" { discard; }',
  'address localpart': 'if address :localpart :is "from" "bob" { discard; }',
  'address domain casemap':
    'if address :domain :is ["to", "cc"] "example.org" { redirect "org@example.org"; }',
  'address matches': 'if address :matches "from" "*@lists.*" { discard; }',
  'anyof allof': `if anyof (header :contains "subject" "meeting", allof (exists "list-id", size :over 10)) { discard; }`,
  'if elsif else': `if header :contains "subject" "meeting" { redirect "m@example.org"; }
elsif header :contains "subject" "version" { redirect "v@example.org"; }
else { keep; }`,
  'true false': 'if false { discard; } elsif true { redirect "t@example.org"; }',
  'multi-line string':
    'require "reject";\nif header :contains "subject" "budget" {\n  reject text:\nNo budget talk here.\n..\n.\n;\n}',
  'syntax error': 'if header :is "subject" "x" { discard;',
  'unknown command': 'frobnicate;',
  'missing require': 'fileinto "X";',
  'require after command': 'keep; require "fileinto";',
  'wrong argument type': 'if size :over "100" { discard; }',
  'unsupported extension': 'require "x-unknown"; keep;',
  // fileinto, copy, mailbox (RFC 5490), special-use (RFC 8579)
  fileinto: 'require "fileinto"; if header :contains "subject" ["meeting", "version"] { fileinto "Work"; }',
  'fileinto copy': 'require ["fileinto", "copy"]; fileinto :copy "Archive";',
  'redirect copy': 'require "copy"; redirect :copy "copy@example.org";',
  'fileinto twice same mailbox': 'require "fileinto"; fileinto "A"; fileinto "A"; fileinto "B";',
  'fileinto same mailbox, other flags':
    'require ["fileinto", "imap4flags"]; fileinto :flags "a" "X"; fileinto :flags "b" "X";',
  'keep and fileinto INBOX': 'require "fileinto"; keep; fileinto "INBOX";',
  'fileinto create': 'require ["fileinto", "mailbox"]; fileinto :create "Lists/ACME";',
  mailboxexists:
    'require ["fileinto", "mailbox"]; if mailboxexists "Nowhere" { fileinto "Nowhere"; } else { keep; }',
  'fileinto specialuse': 'require ["fileinto", "special-use"]; fileinto :specialuse "\\\\Junk" "Spam";',
  // reject (RFC 5429)
  reject: 'require "reject"; if exists "list-id" { reject "No lists, please."; }',
  'reject with fileinto fails': 'require ["reject", "fileinto"]; fileinto "X"; reject "no";',
  'reject with discard': 'require "reject"; discard; reject "gone";',
  // envelope
  'envelope from':
    'require "envelope"; if envelope :is "from" "sender@example.com" { redirect "env@example.org"; }',
  'envelope to domain': 'require "envelope"; if envelope :domain :is "to" "example.net" { discard; }',
  'envelope unknown part': 'require "envelope"; if envelope "cc" "x" { discard; }',
  // subaddress (RFC 5233)
  'subaddress user':
    'require ["subaddress", "envelope"]; if envelope :user "to" "bob" { redirect "u@example.org"; }',
  'subaddress detail': `require ["subaddress", "fileinto"];
if address :detail "from" "news" { fileinto "News"; }
if address :detail "to" "lists" { fileinto "Lists"; }`,
  'subaddress envelope detail':
    'require ["subaddress", "envelope", "fileinto"]; if envelope :detail "to" "tag" { fileinto "Tagged"; }',
  // imap4flags (RFC 5232)
  'addflag implicit keep': 'require "imap4flags"; addflag "\\\\Flagged"; addflag ["Work", "\\\\Seen"];',
  'setflag removeflag': 'require "imap4flags"; setflag "\\\\Seen \\\\Answered"; removeflag "\\\\Answered";',
  'flags on fileinto': 'require ["imap4flags", "fileinto"]; fileinto :flags "\\\\Seen Urgent" "Work"; keep;',
  'internal flags at action time': `require ["imap4flags", "fileinto"];
addflag "first"; fileinto "A"; addflag "second"; fileinto "B"; removeflag "first";`,
  hasflag: `require ["imap4flags"]; addflag "\\\\Seen";
if hasflag :is "\\\\seen" { redirect "seen@example.org"; }`,
  'hasflag variable': `require ["imap4flags", "variables"]; set "f" "a b"; addflag "f" "c";
if hasflag :contains "f" "c" { redirect "c@example.org"; }`,
  // body (RFC 5173)
  'body text contains': 'require "body"; if body :contains "budget" { discard; }',
  'body text decoded': 'require "body"; if body :text :contains "café" { discard; }',
  'body raw': 'require "body"; if body :raw :contains "JVBERi0x" { redirect "raw@example.org"; }',
  'body content html':
    'require "body"; if body :content "text/html" :contains "invoice" { redirect "html@example.org"; }',
  'body content pdf type': 'require "body"; if body :content "application" :contains "%PDF" { discard; }',
  // variables (RFC 5229)
  'variables matches': `require ["variables", "fileinto"];
if header :matches "subject" "[*] *" { fileinto "Lists.\${1}"; }`,
  'variables set modifiers': `require ["variables", "fileinto"];
set :lower :upperfirst "name" "ACME"; set :length "len" "\${name}"; fileinto "\${name}-\${len}";`,
  'variables string test': `require ["variables"]; set "a" "x";
if string :is "\${a}" "x" { redirect "x@example.org"; }`,
  'variables from address': `require ["variables", "fileinto"];
if address :localpart :matches "from" "*" { set "who" "\${1}"; fileinto "From/\${who}"; }`,
  'variables quotewildcard': `require ["variables"]; set :quotewildcard "q" "a*b";
if string :matches "a*b" "\${q}" { discard; }`,
  'variables unknown empty': 'require ["variables", "fileinto"]; fileinto "X${nothing}Y";',
  // vacation (RFC 5230, RFC 6131)
  vacation: 'require "vacation"; vacation "I am away.";',
  'vacation days subject from': `require "vacation";
vacation :days 3 :subject "Away" :from "bob@example.net" :addresses ["bob@example.net"] "Back on Monday.";`,
  'vacation seconds': 'require ["vacation", "vacation-seconds"]; vacation :seconds 172800 "Short break";',
  'vacation handle mime': `require "vacation";
vacation :handle "h1" :mime "Content-Type: text/plain\r\n\r\nAway.";`,
  'vacation only for non-lists': `require "vacation";
if not exists ["list-id", "auto-submitted"] { vacation "Away"; }`,
  'vacation days 0 and 100': `require "vacation";
if exists "list-id" { vacation :days 0 "short"; } else { vacation :days 100 "long"; }`,
  'vacation twice fails': 'require "vacation"; vacation "a"; vacation "b";',
  // relational (RFC 5231)
  'relational value gt numeric':
    'require ["relational", "comparator-i;ascii-numeric", "fileinto"];\nif header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "10" { fileinto "Junk"; }',
  'relational count':
    'require ["relational", "comparator-i;ascii-numeric"];\nif address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3" { discard; }',
  'relational value string': 'require "relational"; if header :value "lt" "subject" "M" { discard; }',
  'numeric without require':
    'require "relational"; if header :value "gt" :comparator "i;ascii-numeric" "x" "1" { discard; }',
  // regex
  regex:
    'require ["regex", "variables", "fileinto"];\nif header :regex "subject" "^\\\\[([a-z-]+)\\\\]" { fileinto "R.${1}"; }',
  // date and index (RFC 5260)
  'date year': 'require ["date", "fileinto"]; if date :is "date" "year" "2025" { fileinto "Y2025"; }',
  'date original zone hour':
    'require ["date", "variables", "fileinto"];\nif date :originalzone :matches "date" "hour" "*" { fileinto "H${1}"; }',
  'date zone':
    'require ["date", "variables", "fileinto"];\nif date :zone "+0900" :matches "date" "date" "*" { fileinto "D${1}"; }',
  'date weekday relational':
    'require ["date", "relational"]; if date :value "ge" "date" "weekday" "6" { discard; }',
  'date iso8601 and zone':
    'require ["date", "variables"];\nif date :originalzone :matches "date" "iso8601" "*" { set "d" "${1}"; } if date :originalzone :is "date" "zone" "+0200" { redirect "z@example.org"; }',
  'date julian':
    'require ["date", "relational", "comparator-i;ascii-numeric"];\nif date :value "gt" :comparator "i;ascii-numeric" "date" "julian" "60800" { discard; }',
  currentdate:
    'require ["date", "relational"]; if currentdate :value "ge" "year" "2024" { redirect "now@example.org"; }',
  'index header':
    'require ["index", "fileinto"]; if header :index 2 :contains "received" "x" { discard; } if address :index 1 :last :is "to" "carol@example.org" { fileinto "Last"; }',
  // include (RFC 6609)
  'include personal': 'require "include"; include :personal "lists";',
  'include global once': 'require "include"; include :global "common"; include :global :once "common";',
  'include optional missing': 'require "include"; include :optional "missing"; keep;',
  'include missing fails': 'require "include"; include "missing";',
  'include with global variable': `require ["include", "variables"];
global "folder"; set "folder" "Shared"; include "use-global";`,
  'include return': 'require "include"; include "returns"; redirect "after@example.org";',
  // editheader (RFC 5293)
  'addheader then test': `require ["editheader"]; addheader "X-Sieve" "seen";
if header :is "x-sieve" "seen" { redirect "edited@example.org"; }`,
  'deleteheader then test': `require ["editheader"]; deleteheader "subject";
if not exists "subject" { redirect "nosubject@example.org"; }`,
  'deleteheader protected': `require ["editheader"]; deleteheader "received";
if exists "received" { redirect "kept@example.org"; }`,
  'deleteheader index value': `require ["editheader", "index"]; deleteheader :index 1 :contains "to" "bob";
if header :contains "to" "carol" { discard; }`,
  // duplicate (RFC 7352): sieve-test has no memory, so a first delivery is never a duplicate.
  'duplicate first time':
    'require "duplicate"; if duplicate { discard; } else { redirect "first@example.org"; }',
  'duplicate header':
    'require ["duplicate", "fileinto"]; if duplicate :header "subject" :seconds 60 { discard; }',
  // encoded-character
  'encoded character':
    'require ["encoded-character", "fileinto"]; fileinto "${hex:46 6f 6f}${unicode:263a}";',
  'encoded character not required': 'require "fileinto"; fileinto "${hex:46}";',
};

/** Scripts that include: reads them from the personal and global directories. */
export const INCLUDES = {
  personal: {
    lists: 'require "fileinto"; if exists "list-id" { fileinto "Lists"; }',
    'use-global': 'require ["include", "variables", "fileinto"]; global "folder"; fileinto "${folder}";',
    returns: 'require "include"; return; discard;',
  },
  global: {
    common: 'require "imap4flags"; addflag "$common"; redirect "common@example.org";',
  },
};
