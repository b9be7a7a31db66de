/**
 * Every configuration key with its default. The shape of this object is the shape of the YAML file,
 * and each leaf also has an environment variable: `MALLARD_` + its path upper-cased and joined with
 * `_` (`imap.tls_port` → `MALLARD_IMAP_TLS_PORT`). Keys whose absence matters default to "".
 */
import os from 'node:os';
import path from 'node:path';

/** Where an appliance keeps its data when nothing else is configured, per platform convention. */
export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? home, 'Mallard');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Mallard');
  return path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'mallard');
}

export function configDefaults() {
  return {
    data_dir: defaultDataDir(),
    hostname: os.hostname(),
    log_level: 'info',
    server: {
      /**
       * Processes `mallard serve` runs (a supervisor forks them; they accept on the same ports);
       * 0: one per core; 1: the single process of the test suite's in-process servers.
       */
      workers: 0,
      /**
       * How often each process reads the change journal for changes it was not told of: the
       * workers of one `mallard serve` tell each other at once (through the supervisor), so this
       * is for other servers on the same MongoDB (and a safety net).
       */
      journal_poll_ms: 250,
    },
    store: {
      engine: 'sqlite',
      sqlite: {
        /**
         * `mallard serve` runs the database on a thread of its own, so a slow statement, COMMIT or
         * fsync stops no session; false runs it on the event loop (as the CLI does).
         */
        thread: true,
        /** Seconds a store call may take before its session is told to try again later (threaded). */
        call_timeout: 10,
      },
      mongodb: {
        uri: '',
        /** Path of a mongod binary: when set, the supervisor runs a local replica set. */
        local: '',
        /** Members of that local replica set: 1, or 3 on this one machine. */
        local_members: 1,
      },
    },
    imap: {
      /** false: no listener for this protocol (its ports are kept for when it is switched on). */
      enabled: true,
      host: '0.0.0.0',
      port: 143,
      tls_port: 993,
      max_connections_per_user: 40,
      /** Seconds an IDLE may last before the server ends it. */
      idle_max: 1800,
      /** Seconds between IDLE keep-alives; clients poll when pinged more often than every 3 min. */
      idle_keepalive: 240,
      /** Seconds of inactivity before an authenticated connection is closed (RFC 3501: ≥ 30 min). */
      idle_timeout: 1800,
      /**
       * Worker threads that scan, decode and parse big messages (SEARCH text keys, FETCH BINARY) off
       * the event loop; 0: one per core but one, at least 1, at most 4.
       */
      parse_workers: 0,
      /**
       * UIDONLY (RFC 9586) offered to accounts without a setting of their own (User.uidOnly): some
       * Outlook builds mishandle it, so an account can be kept off it.
       */
      uidonly: true,
    },
    pop3: {
      enabled: true,
      host: '0.0.0.0',
      port: 110,
      tls_port: 995,
      /** Seconds of inactivity before a session is closed (RFC 1939: at least 10 minutes). */
      idle_timeout: 600,
      delete_mode: 'expunge',
    },
    /** ManageSieve (RFC 5804): mail clients upload and activate Sieve filters (STARTTLS, no implicit TLS). */
    managesieve: {
      enabled: true,
      host: '0.0.0.0',
      port: 4190,
      /** Seconds of inactivity before a session is closed. */
      idle_timeout: 1800,
      /** Scripts one user may keep (more get NO (QUOTA/MAXSCRIPTS)). */
      max_scripts: 20,
      /** Largest script in bytes (more get NO (QUOTA/MAXSIZE)); at most 1 MiB, the store's limit. */
      max_script_size: 256 * 1024,
    },
    lmtp: {
      enabled: true,
      host: '127.0.0.1',
      port: 24,
    },
    smtp: {
      enabled: true,
      host: '0.0.0.0',
      port: 25,
    },
    /** Mail received on port 25 from other servers (SMTP-in). */
    inbound: {
      /** Check SPF, DKIM, DMARC and ARC and write Authentication-Results (false: accept unchecked). */
      verify_senders: true,
      /** What a failing DMARC p=reject does: reject (550 5.7.1 at the end of DATA) or quarantine (Junk). */
      dmarc_reject: 'reject' as 'reject' | 'quarantine',
      /** A message with bare LF line ends: normalize (stored with CRLF) or refuse (554 5.6.0). */
      bare_lf: 'normalize' as 'normalize' | 'refuse',
      /** Recipients one transaction may have (more get 452 4.5.3). */
      max_recipients: 1000,
      /** Error replies one connection may cause before it is closed with 421. */
      max_errors: 20,
      /** Recipients (RCPT commands, over all its transactions) one connection may give before 421. */
      max_connection_recipients: 10_000,
      /** Commands one connection may send before it is closed with 421. */
      max_commands: 50_000,
      /** A Sieve script every delivery runs before the user's own (Pigeonhole's sieve_before); empty: none. */
      sieve_before: '',
    },
    /** Spam filtering of mail received on port 25 (server/spam/). */
    spam: {
      /** Score, file into Junk or refuse each message (false: no spam checks at all). */
      enabled: true,
      /** rspamd's scanning worker, e.g. http://127.0.0.1:11333 (empty: Mallard's own checks only). */
      rspamd_url: '',
      /** rspamd's controller for learning from Junk moves, e.g. http://127.0.0.1:11334 (empty: no learning). */
      rspamd_controller_url: '',
      /** The controller's password (empty: none; rspamd lets loopback in without one). */
      rspamd_password: '',
      /** DNS blocklists the client's IP is looked up in (own checks), e.g. zen.spamhaus.org. */
      dnsbl: [] as string[],
      /** Points a listing in one blocklist adds. */
      dnsbl_score: 5,
      /** From this score a message goes to Junk (with X-Spam-Flag: YES). */
      junk_score: 5,
      /** From this score a message is refused with 550 5.7.1 at the end of DATA. */
      reject_score: 15,
      /** Answer 451 4.7.1 at RCPT to an unknown (client /24, sender, recipient) triplet. */
      greylisting: false,
      /** Seconds a new triplet must wait before its retry is accepted. */
      greylist_delay: 300,
      /** Days a triplet that passed is remembered (each accepted message renews it). */
      greylist_expiry_days: 35,
    },
    /** Authenticated submission for mail clients: 587 with STARTTLS, 465 with implicit TLS. */
    submission: {
      enabled: true,
      host: '0.0.0.0',
      port: 587,
      tls_port: 465,
      /** Messages one user may submit per hour (local and remote recipients alike). */
      max_messages_per_hour: 200,
      /** Recipients one message may have. */
      max_recipients: 100,
    },
    /** Sending to other domains: the outbound queue and its delivery. */
    outbound: {
      /** Smarthost for all remote mail (host empty: deliver straight to each domain's MX). */
      relay: {
        host: '',
        port: 587,
        /** starttls (required), tls (implicit, port 465) or none. */
        tls: 'starttls',
        username: '',
        password: '',
      },
      /** Port of the MX hosts (25; another value only for tests and unusual networks). */
      mx_port: 25,
      /** Seconds before the first retry; each further retry waits twice as long, up to retry_max. */
      retry_base: 300,
      retry_max: 4 * 3600,
      /** Seconds after which an undelivered recipient bounces, and after which the sender is warned. */
      give_up_after: 5 * 86400,
      delay_warning_after: 4 * 3600,
      /** Deliveries in progress at once, over all destinations. */
      concurrency: 10,
      /** Of those, to one destination domain (or the relay) at once. */
      concurrency_per_domain: 5,
      /** Seconds between looks at the queue for work that is due. */
      poll_interval: 5,
      /**
       * Seconds a worker holds a message it delivers (renewed while the delivery runs): how soon a
       * crashed process's messages are taken up by another process or by itself after a restart.
       */
      lease: 120,
      /** MTA-STS (RFC 8461) honoured for direct delivery. */
      mta_sts: {
        enabled: true,
        /** Port of the policy host (443; another value only for tests). */
        policy_port: 443,
        /** PEM file of CAs trusted for MTA-STS instead of the system's ("": the system's; for tests). */
        ca_file: '',
      },
    },
    /** DNS servers for MX lookups (empty: the system's); "IP" or "IP:PORT" each. */
    dns: {
      servers: [] as string[],
    },
    /** DKIM signing of mail sent from local domains (keys made on first use, in the data dir). */
    dkim: {
      enabled: true,
      selector: 'mallard',
    },
    admin: {
      host: '127.0.0.1',
      port: 8025,
    },
    panel: {
      host: '127.0.0.1',
      port: 8026,
      /** HTTPS with the server's certificate, password + TOTP, for phones on the home network. */
      lan: {
        enabled: false,
        host: '0.0.0.0',
        port: 8443,
      },
    },
    /**
     * Mallard's own HTTPS server (server/web/): client autoconfiguration (Thunderbird, Outlook,
     * Apple profiles) and the MTA-STS policy, for the autoconfig., autodiscover. and mta-sts. names
     * of every mail domain (README "Clients that set themselves up").
     */
    web: {
      enabled: true,
      host: '0.0.0.0',
      port: 443,
      /** The MTA-STS policy's mode (RFC 8461): testing reports only, enforce refuses unverified TLS. */
      mta_sts_mode: 'testing',
      /** Seconds senders cache the policy: a week (RFC 8461 suggests weeks; at most a year). */
      mta_sts_max_age: 604800,
    },
    tls: {
      /** PEM certificate chain and key; when empty a self-signed pair is made in the data dir. */
      cert_file: '',
      key_file: '',
      /** Allow passwords without TLS from loopback (local tools, a webmail on the same machine). */
      plaintext_auth_on_loopback: true,
    },
    /** Certificates from an ACME CA such as Let's Encrypt (server/acme/; README "Certificates from Let's Encrypt"). */
    acme: {
      /** Renew the ACME certificate automatically (a daily check) once one was issued. */
      enabled: false,
      /** Let's Encrypt production; staging: https://acme-staging-v02.api.letsencrypt.org/directory */
      directory_url: 'https://acme-v02.api.letsencrypt.org/directory',
      /** Contact address for the account (expiry warnings from the CA); empty: none. */
      email: '',
      /** The operator accepts the CA's terms of service (required before an account is made). */
      accept_terms: false,
      /** Extra PEM CA certificates to trust for the directory's own HTTPS (a private ACME server). */
      ca_file: '',
      /** Names besides `hostname` the certificate covers (autoconfig.example.org, …). */
      names: [] as string[],
      /** http-01 (port 80), tls-alpn-01 (port 443), dns-01 (RFC 2136 update) or manual (publish a TXT record by hand). */
      challenge: 'http-01',
      /** Address the challenge listeners bind (only while a challenge is open). */
      host: '0.0.0.0',
      /** Where the CA connects for HTTP-01 (80; a router may forward another). */
      http_port: 80,
      /** Where the CA connects for TLS-ALPN-01 (443). */
      tls_port: 443,
      /** Renew when the certificate has fewer days left than this. */
      renew_days: 30,
      /** DNS-01 through RFC 2136 dynamic updates signed with TSIG (HMAC-SHA256). */
      dns: {
        /** The primary server taking updates, "IP" or "IP:PORT". */
        server: '',
        /** The zone the _acme-challenge names are in (empty: the name's parent domain). */
        zone: '',
        tsig_name: '',
        /** The TSIG key, base64 (as `tsig-keygen` / `keymgr -t` print it). */
        tsig_secret: '',
      },
    },
    /** Password guessing (server/auth/login-guard.ts; README "Security"). */
    auth: {
      /** Failed logins from one address (IPv6: its /64) before it is locked out. */
      address_failure_limit: 10,
      /** Seconds failures are counted for, per address and per account. */
      failure_window: 900,
      /** Seconds a guessing address stays locked out. */
      address_lockout: 900,
      /** Delay after the first failure (milliseconds); it doubles per failure up to max_delay_ms. */
      base_delay_ms: 250,
      max_delay_ms: 8000,
      /** Failures for one account (any address) before logins from its unknown addresses are slowed. */
      account_slowdown_after: 10,
      /** Failures for one account (any address) before the admin API and panel report it. */
      account_alert_after: 20,
      /** Days an address the account logged in from is its owner's (never slowed for it). */
      known_address_days: 30,
    },
    limits: {
      /** Largest message accepted by APPEND, LMTP and SMTP, in bytes. */
      max_message_size: 64 * 1024 * 1024,
      /** Largest file uploaded for an import from the panel or the API (mbox, zip, tar), in bytes. */
      max_import_upload: 4 * 1024 * 1024 * 1024,
      /** Longest command line (without literals), in bytes. */
      max_line_length: 64 * 1024,
      /**
       * Largest IMAP literal before authentication, in bytes (a LOGIN needs a few hundred; Dovecot
       * allows a few KB), so a stranger cannot make the server hold megabytes.
       */
      prelogin_literal_size: 8 * 1024,
      /** Seconds from connect to a successful login (IMAP, POP3) or first MAIL FROM (SMTP, LMTP), however busy the client. */
      prelogin_timeout: 60,
      /** Open connections from one IP address, all protocols together. */
      max_connections_per_address: 100,
      /** Connections not yet logged in, all addresses together; a new one ends the oldest (as Dovecot does). */
      max_prelogin_connections: 1000,
      /**
       * File descriptors kept free beyond the connections (store, logs, the admin API, accepting a
       * login while full): at most the open-files limit minus this many connections are kept.
       */
      fd_reserve: 256,
      /** Distinct keywords (custom flags) one mailbox may have (Dovecot stops at a similar number). */
      max_keywords_per_mailbox: 256,
      // SMTP, LMTP, submission: RFC 5321 4.5.3.2's 5 minutes per command, 10 for DATA's end; bytes
      // of a message earn time at Postfix's smtpd_min_data_rate.
      command_timeout: 300,
      transaction_timeout: 600,
      min_data_rate: 500,
    },
    /**
     * Connection rules written into the store when it never had any (see server/hooks/seed.ts);
     * afterwards they are managed with `mallard rule`. Each: { kind, cidrs, limit, window_seconds,
     * protocols, enabled, note }. In the environment, MALLARD_RULES holds them as JSON.
     */
    /** Backups (server/backup/, README "Backups"): off until a destination folder is set. */
    backup: {
      /** A folder (an external disk, a mounted NAS share); empty: no scheduled backups. */
      destination: '',
      /** A file holding a passphrase: backups are then encrypted with age (scrypt). Empty: not encrypted. */
      passphrase_file: '',
      /** Retention: the newest backup of each of the last N days, ISO weeks and months is kept. */
      keep_daily: 7,
      keep_weekly: 4,
      keep_monthly: 12,
      /** The daily backup runs at this local hour. */
      hour: 3,
    },
    rules: [] as Array<{ kind: string; cidrs?: string[]; limit?: number; window_seconds?: number }>,
  };
}

export type ConfigShape = ReturnType<typeof configDefaults>;
