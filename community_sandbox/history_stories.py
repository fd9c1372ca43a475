"""What community members write, and what the team answers: the material of the synthetic history.

Written for this project (no text is copied from a real tracker, forum or Q&A site). Each story is
``(where, title, body)``: ``where`` says which product it concerns (``server``, ``mobile``,
``desktop``, ``omnibus`` for GitLab's bundled Mattermost, ``any``); placeholders are filled by
``synth.write_history``: ``{ver}`` a supported server version, ``{old}`` an unsupported one,
``{app}`` a mobile app version, ``{desk}`` a desktop app version, ``{os}`` a server OS, ``{mos}``
a phone OS, ``{browser}``, ``{n}`` a number. The type of each list is what the team decided.
"""

from __future__ import annotations

Story = tuple[str, str, str]

BUG: list[Story] = [
    (
        "server",
        "Threads: unread dot stays after reading the thread on another device",
        "After I read a followed thread on my phone, the web app keeps showing it as unread until I open "
        "it there as well. It happens every single time since {ver}; on the previous release the state "
        "synced within a second.",
    ),
    (
        "server",
        "Search returns nothing for words with an apostrophe",
        "Searching for `don't` or `we're` finds no messages, although the channel is full of them. "
        "Putting the word in quotes does not help either. Server {ver} on Postgres 15.",
    ),
    (
        "server",
        "Editing a message removes the image preview",
        "1. Post a message with a PNG attached\n2. Edit the text and save\n\nThe thumbnail is gone and "
        "only the file name is shown. The file is still listed under Channel Files, so it is only the "
        "preview. {ver}, {browser}.",
    ),
    (
        "server",
        "Date separator shows the previous day for messages posted after midnight",
        "Messages sent between 00:00 and 01:00 local time end up under yesterday's date separator. My "
        "timezone is Europe/Berlin (automatic). Looks like the separator uses UTC instead of the user's "
        "zone. Seen on {ver}.",
    ),
    (
        "server",
        "Numbered list restarts at 1 after a code block",
        "A numbered list with a fenced code block between items 2 and 3 renders the third item as "
        '"1.". The same Markdown renders correctly in the preview of the edit box. {ver}.',
    ),
    (
        "server",
        "Saved messages panel is empty after the upgrade",
        "After upgrading to {ver} the Saved messages panel is empty for every user. The flags are "
        "still in the Preferences table, the panel just doesn't show them. I rolled a test server "
        "back to the previous version and the list is back, so this is a regression.",
    ),
    (
        "server",
        "Incoming webhook ignores the priority field",
        'Posting `{{"text": "deploy failed", "priority": {{"priority": "urgent"}}}}` to an '
        "incoming webhook creates a normal post. It worked on the release before {ver}; the API "
        "endpoint for posts still honours it.",
    ),
    (
        "server",
        "Saving the SMTP page wipes the stored password",
        "Whenever I change any other field on *Environment > SMTP* and click Save, the stored SMTP "
        "password is cleared and notification emails stop until I type it again. Tested on two "
        "servers running {ver}.",
    ),
    (
        "server",
        "mmctl user list --all stops after 200 users",
        "`mmctl user list --all` prints exactly 200 users on our instance with 1,{n}00 accounts. "
        "`--per-page 500` gives 500. It looks like the paging loop ends after the first page. "
        "mmctl and server {ver}.",
    ),
    (
        "server",
        "Bulk import fails on a reply that has only an attachment",
        "Importing a JSONL where a reply has an attachment but an empty message fails:\n\n```\n"
        "Error: import validation failed: app.import.validate_post_import_data.message_missing.error\n```\n\n"
        "Replies with text and an attachment import fine. {ver}.",
    ),
    (
        "server",
        "Guest can see members of channels they are not in",
        "A guest account added to one channel can open *View members* of other public channels "
        "through a permalink and sees the full member list. Guests should not see those. {ver}, "
        "Enterprise license.",
    ),
    (
        "server",
        "Custom status 'Today' is cleared at UTC midnight",
        "Setting a custom status with *Clear after: Today* clears it at 00:00 UTC, which is 9 in the "
        "morning for our team in Tokyo. Expected: the end of my local day. {ver}.",
    ),
    (
        "server",
        "@group mentions don't autocomplete in the thread reply box",
        "Typing `@support-team` in the center channel suggests the group, but the same in the reply "
        "box of a thread suggests only users. Sending it anyway does notify the group. {ver}, "
        "{browser}.",
    ),
    (
        "server",
        "Permalink to a reply in an archived channel says 'Message not found'",
        "Any permalink to a reply inside an archived channel opens the channel and shows *Message not "
        "found*. Root posts work. Archived channels are readable for us (setting enabled). {ver}.",
    ),
    (
        "server",
        "Pinned messages panel lists messages of a different channel",
        "Open the pinned messages of channel A, then switch to channel B with Ctrl+K: the panel still "
        "shows A's pins under B's name until you close and reopen it. Happens every time on {ver}.",
    ),
    (
        "server",
        "Link preview shows the image of the previous link",
        "When two messages with links are posted quickly one after another, the second preview "
        "sometimes uses the image of the first link. Reloading fixes it. {ver}, {browser}.",
    ),
    (
        "desktop",
        "Clicking a notification opens the wrong team",
        "With three teams on one server, clicking a desktop notification for a mention in team C "
        "opens the channel with the same name in team A. Desktop {desk}, server {ver}.",
    ),
    (
        "desktop",
        "Desktop app freezes for seconds when pasting a large screenshot",
        "Pasting a 4K screenshot from the clipboard freezes the whole window for 5-8 seconds before "
        "the upload starts. Dragging the same file in is instant. Desktop {desk} on Windows 11.",
    ),
    (
        "server",
        "Compliance export CSV has shifted columns for multi-line messages",
        "In the CSV compliance export, any message with a line break pushes the following fields one "
        "column to the right, so the export cannot be imported into our archive tool. The message "
        "field is not quoted. {ver} E20.",
    ),
    (
        "server",
        "AD sync deactivates a user whose email changed case",
        "A user whose email changed from `Ana.Silva@corp.example` to `ana.silva@corp.example` in "
        "Active Directory was deactivated by the next sync, and a second account was created at the "
        "next login. Expected: the existing account is updated. {ver}.",
    ),
    (
        "server",
        "SAML login overwrites the first name with the username",
        "Every SAML login sets the user's first name to their username, although the FirstName "
        "attribute is mapped and present in the assertion (checked with the SAML tracer). It started "
        "with {ver}.",
    ),
    (
        "server",
        "Typing indicator never goes away when the other person closes the tab",
        'If someone starts typing and then closes their browser tab, "is typing..." stays under '
        "the input box until I switch channels. {ver}, {browser}.",
    ),
    (
        "server",
        "Ctrl+K opens the channel switcher twice",
        "Pressing Ctrl+K once opens the switcher and then a second one on top; Esc closes only one. "
        "Only in the thread view. {browser}, server {ver}.",
    ),
    (
        "server",
        "A deleted draft comes back after a reload",
        "I delete a draft from the Drafts view, reload the page, and the draft is there again. It "
        "also syncs back to my other devices. {ver}.",
    ),
    (
        "server",
        "Scheduled message sent an hour late after the clocks changed",
        "Messages scheduled before the switch to winter time were all posted one hour later than "
        "shown in the schedule dialog. Server timezone UTC, my timezone America/Chicago. {ver}.",
    ),
    (
        "server",
        "Mention keywords containing a hyphen never notify",
        "I added `on-call` to my mention keywords. Messages containing `on-call` are highlighted but "
        "no notification is sent, neither desktop nor push. Keywords without a hyphen work. {ver}.",
    ),
    (
        "server",
        "Email batching sends an empty notification email",
        "With email batching set to 15 minutes, I regularly get a notification email with the header "
        "and footer but no messages in it. It happens when the mention was already read in the app. "
        "{ver}.",
    ),
    (
        "server",
        "Reactions vanish after the message is edited",
        "Edit a message that has reactions: after saving, the reactions are gone for everyone until "
        "a reload. The reactions are still in the database. {ver}, {browser}.",
    ),
    (
        "server",
        "Renamed channel keeps its old URL for other users",
        "After renaming a channel's URL, other users who had it open get a blank screen when they "
        "click it in the sidebar until they refresh. {ver}.",
    ),
    (
        "server",
        "API returns deactivated users in channel members",
        "`GET /api/v4/channels/{{id}}/members` includes users that were deactivated, while the UI "
        "hides them. Either the docs or the endpoint is wrong. {ver}.",
    ),
    (
        "server",
        "Patching a post through the API drops props set by the integration",
        "Our integration sets `props.attachments`. Patching only the message with "
        "`PUT /api/v4/posts/{{id}}/patch` removes the attachments. The patch should leave fields it "
        "does not mention alone. {ver}.",
    ),
    (
        "server",
        "Slash command reply with in_channel is posted twice",
        "Our custom slash command answers with `response_type: in_channel`. Since {ver} the reply "
        "shows up twice in the channel; one of them disappears after a reload.",
    ),
    (
        "server",
        "'Mark as unread' jumps to the wrong message",
        "Using *Mark as unread* on a message in a busy channel marks a message about 20 posts later "
        "as the first unread one. {ver}, {browser}.",
    ),
    (
        "server",
        "File search links point to the old channel after a rename",
        'After renaming a channel, clicking a result in file search opens a "channel not found" '
        "page. Message search is fine. {ver}.",
    ),
    (
        "server",
        "Playbooks: checklist assignees are lost when the run is renamed",
        "Renaming a running playbook run clears every assignee of every checklist item. The timeline "
        "shows no event for it. Playbooks plugin on {ver}.",
    ),
    (
        "server",
        "Boards: date property shows one day earlier on the card",
        "A card with the date 14 March shows 13 March in the board view, but 14 March when opened. "
        "Our users are in UTC-5. {ver}.",
    ),
    (
        "server",
        "Calls: screen share freezes when the presenter switches windows",
        "During a call, the shared screen freezes for all viewers as soon as the presenter switches "
        "to another window, and only recovers when sharing is restarted. Calls plugin on {ver}, "
        "{browser}.",
    ),
    (
        "server",
        "Regression: Threads view jumps to the top on every new reply",
        "Since {ver} the Threads list scrolls back to the top every time a followed thread gets a new "
        "reply. Very hard to work through a long list. It worked fine on the previous release.",
    ),
    (
        "server",
        "Channel header link overflows on narrow windows",
        "A long URL in the channel header runs past the edge of the window instead of wrapping or "
        "being cut. Window width below ~900px, {browser}, {ver}.",
    ),
    (
        "mobile",
        "App crashes when opening a DM with a deactivated user",
        "The app closes right away when I tap a direct message with a user who was deactivated. "
        "App {app}, {mos}. Other DMs open fine.",
    ),
    (
        "mobile",
        "Share extension posts to the last channel instead of the selected one",
        "Sharing a photo from the gallery: I choose channel B in the share sheet, but the file is "
        "posted in channel A, the one I had open last. App {app} on {mos}.",
    ),
    (
        "mobile",
        "Photos in a thread are shown rotated",
        "Portrait photos taken with the phone show rotated by 90 degrees in the thread view, but "
        "correctly in the channel. App {app}, {mos}.",
    ),
    (
        "mobile",
        "Tapping a push notification opens the channel but not the thread",
        "When a notification is for a reply in a thread, tapping it opens the channel and not the "
        "thread, so I have to find the thread myself. CRT is on. App {app}, {mos}.",
    ),
    (
        "mobile",
        "Status bar text unreadable with the dark theme",
        "With a dark theme the status bar icons stay black on a black background. App {app} on {mos}.",
    ),
    (
        "mobile",
        "App logs me out every time it is closed from the app switcher",
        "Since app {app} I must log in again every time I swipe the app away, although our session "
        "length is 30 days. Going back to the previous build from TestFlight fixes it. {mos}.",
    ),
    (
        "mobile",
        "Keyboard covers the message box in landscape",
        "In landscape mode the keyboard hides the input box completely, so I can't see what I type. "
        "Portrait is fine. App {app}, {mos}.",
    ),
    (
        "mobile",
        "Channel list shows a muted channel in bold after reconnecting",
        "Muted channels show up bold in the channel list after the app reconnects, until I open and "
        "leave them. App {app} on {mos}, server {ver}.",
    ),
    (
        "mobile",
        "Voice message duration shown as 00:00",
        "All voice messages show 00:00 as their length, but they play fine. App {app}, {mos}.",
    ),
    (
        "mobile",
        "Search results open the message without highlighting it",
        "Tapping a search result opens the channel near the message but does not highlight it, and "
        "for old messages it doesn't scroll there at all. App {app}, {mos}.",
    ),
    (
        "omnibus",
        "gitlab-ctl reconfigure fails when mattermost['env'] has a value with a space",
        "Setting `mattermost['env'] = {{ 'MM_SQLSETTINGS_QUERYTIMEOUT' => '30 s' }}` makes "
        "`gitlab-ctl reconfigure` fail while writing the env directory. Values without spaces work. "
        "Omnibus package with bundled Mattermost {ver}.",
    ),
    (
        "omnibus",
        "Bundled Mattermost logs are rotated from the wrong directory",
        "The logrotate config shipped for Mattermost points to `/var/log/gitlab/mattermost/*.log`, "
        "but the bundled service writes `mattermost.log` into `/var/opt/gitlab/mattermost/logs`, "
        "which is never rotated and filled our disk.",
    ),
    (
        "omnibus",
        "Bundled Mattermost runs its database migration twice on upgrade",
        "During `apt upgrade gitlab-ee` the Mattermost migration starts twice in parallel and the "
        "second one fails with a lock error. The upgrade finishes, but the log is alarming.",
    ),
]

TROUBLESHOOTING: list[Story] = [
    (
        "server",
        "WebSocket keeps disconnecting behind nginx",
        "Users see the *Cannot connect to the server* banner every few seconds. We run nginx 1.24 in "
        "front of Mattermost {ver}. The browser console shows:\n\n```\nWebSocket connection to "
        "'wss://chat.example.org/api/v4/websocket' failed\n```\n\nOur nginx location block only has "
        "`proxy_pass http://127.0.0.1:8065;`. What am I missing?",
    ),
    (
        "server",
        "x509: certificate signed by unknown authority when logging in with GitLab",
        "GitLab SSO worked until we moved GitLab behind our internal CA. Now the login ends with an "
        'error page and the log says:\n\n```\n{{"level":"error","msg":"Token request failed.",'
        '"error":"Post \\"https://git.corp.example/oauth/token\\": tls: failed to verify '
        'certificate: x509: certificate signed by unknown authority"}}\n```\n\nMattermost {ver} in '
        "Docker on {os}.",
    ),
    (
        "server",
        "Docker container exits: permission denied on /mattermost/config",
        "Fresh install with docker compose on {os}. The mattermost container restarts in a loop:\n\n"
        "```\nError: failed to load configuration: failed to create store: unable to load on store "
        "creation: failed to persist: failed to write file: open /mattermost/config/config.json: "
        "permission denied\n```\n\nThe volumes are in ./volumes/app/mattermost, created by root.",
    ),
    (
        "server",
        "Emails fail with 535 5.7.3 Authentication unsuccessful",
        "Test connection in *SMTP* fails with `535 5.7.3 Authentication unsuccessful`. We use "
        "smtp.office365.com port 587 with STARTTLS and a shared mailbox. The same credentials work "
        "in Thunderbird. Server {ver}.",
    ),
    (
        "server",
        "No push notifications at all on our self-hosted server",
        "Nobody gets push notifications on the phones, desktop notifications work. In *Push "
        "Notification Server* the field is empty and I'm not sure what to put there. We installed "
        "Mattermost {ver} from the tarball on {os}.",
    ),
    (
        "server",
        "Can't log in after switching SiteURL to https",
        "I changed SiteURL from http to https after adding a certificate on our reverse proxy. Now "
        "the login page loads but after entering the password it just reloads. Nothing useful in the "
        "log. {ver}, Apache in front.",
    ),
    (
        "server",
        "Mattermost can't reach MySQL after enabling TLS on the database",
        "Our DBA enabled `require_secure_transport` on MySQL 8. Since then Mattermost won't start:\n\n"
        '```\n{{"level":"fatal","msg":"Failed to ping DB","error":"Error 3159: Connections '
        'using insecure transport are prohibited while --require_secure_transport=ON."}}\n```\n\n'
        "DataSource is the same as before. {ver}.",
    ),
    (
        "server",
        "Upgrade from {old} to {ver} fails with a migration error",
        "We skipped a few releases and tried to go from {old} straight to {ver}. The server stops "
        'during startup:\n\n```\n{{"level":"fatal","msg":"Failed to apply database '
        'migrations.","error":"migration 000089 failed: pq: column \\"remoteid\\" of relation '
        '\\"channels\\" already exists"}}\n```\n\nIs there a way to fix this without restoring the '
        "backup?",
    ),
    (
        "server",
        "LDAP test connection fails with Result Code 49",
        'AD/LDAP test connection says `LDAP Result Code 49 "Invalid Credentials"`. The bind user '
        "works with ldapsearch from the same host. Bind username is set as `svc-mattermost`. "
        "{ver} E10.",
    ),
    (
        "server",
        "Keycloak SAML: 'one of the attributes is incorrect'",
        "Users get *SAML login was unsuccessful because one of the attributes is incorrect*. In "
        "Keycloak I mapped email and username, first and last name are not mapped. The log has "
        "`SAML.Authenticate: missing email attribute`. {ver}.",
    ),
    (
        "server",
        "Uploads over 10 MB fail behind our reverse proxy",
        "MaxFileSize is 100 MB, but every upload over ~10 MB fails with a red error. Our reverse "
        "proxy is HAProxy. Smaller files work. Server {ver} on {os}.",
    ),
    (
        "server",
        "Server won't start: bind: permission denied on port 443",
        "I set ListenAddress to `:443` to skip the proxy and now the service fails:\n\n```\n"
        "Error starting server, err:listen tcp :443: bind: permission denied\n```\n\nRunning as the "
        "mattermost user via systemd on {os}, {ver}.",
    ),
    (
        "server",
        "Elasticsearch indexing job fails with connection refused",
        "The bulk indexing job fails right away: `dial tcp 10.2.0.15:9200: connect: connection "
        "refused`. Elasticsearch runs in our k8s cluster and is reachable from my laptop. Mattermost "
        "{ver} runs on a VM in a different network.",
    ),
    (
        "server",
        "S3 storage test says AccessDenied with MinIO",
        "Test connection for S3 file storage answers `AccessDenied: Access Denied.` We use MinIO with "
        "a bucket policy for the mattermost user, path-style. Should *Enable Secure Amazon S3 "
        "Connections* be on if MinIO is plain http? {ver}.",
    ),
    (
        "server",
        "Helm chart: pod in CrashLoopBackOff, failed to ping DB",
        "Installed with the Helm chart on k3s. The mattermost pod restarts forever:\n\n```\n"
        '{{"level":"error","msg":"Failed to ping DB","error":"dial tcp: lookup '
        'mattermost-postgresql on 10.43.0.10:53: no such host"}}\n```\n\nThe postgres pod is running.',
    ),
    (
        "mobile",
        "Mobile app: 'Cannot connect to the server' with our self-signed certificate",
        "The web app works in the browser after accepting the warning, but the mobile app says "
        "*Cannot connect to the server. Please check your server URL and internet connection*. Our "
        "certificate is self-signed. App {app}, {mos}.",
    ),
    (
        "server",
        "Calls work in the office but not from home",
        "Calls connect fine inside our LAN, but people working from home join and hear nothing. The "
        "server is behind a NAT; we only forwarded 443. {ver}, Calls plugin default settings.",
    ),
    (
        "server",
        "Everyone gets 'token error' after restoring a backup to a new server",
        "We restored a database dump and the data folder onto a new VM. Logging in shows *Token "
        "error* for every user. The config.json was copied too, but the SiteURL changed. {ver}.",
    ),
    (
        "server",
        "Plugin upload button is missing in the System Console",
        "In *Plugin Management* there is no upload button, only the Marketplace. I need to install a "
        "custom plugin built in-house. {ver} installed with the Ubuntu package.",
    ),
    (
        "desktop",
        "Desktop app shows a blank window behind the corporate proxy",
        "The desktop app opens with a white window and never loads our server. Browsers work "
        "because they use the PAC file. Desktop {desk} on Windows 10, corporate proxy with "
        "authentication.",
    ),
    (
        "server",
        "Very slow after moving to a new VM",
        "We moved Mattermost {ver} to a VM with 2 vCPU and 2 GB RAM and now channel switching takes "
        "5-10 seconds and the database sits on the same box. ~300 users. Where should I look first?",
    ),
    (
        "server",
        "systemd unit fails with status=203/EXEC",
        "`systemctl start mattermost` fails immediately with `status=203/EXEC`. I extracted the "
        "tarball to /opt/mattermost and copied the unit file from a blog post. {os}.",
    ),
    (
        "server",
        "SELinux blocks Mattermost on port 8065",
        "On {os} with SELinux enforcing, nginx can't connect to Mattermost on 8065 (`connect() to "
        "127.0.0.1:8065 failed (13: Permission denied)`). With SELinux permissive it works.",
    ),
    (
        "mobile",
        "Mobile login broke after the Let's Encrypt renewal",
        "Since our certificate renewed last night, the Android app can't connect, iOS is fine. We use "
        "certbot with nginx and only configured `cert.pem`, not the full chain. App {app}.",
    ),
    (
        "server",
        "Email notifications link to localhost:8065",
        "All links in notification and invite emails point to `http://localhost:8065`. The server is "
        "reachable at our real domain. {ver} in docker.",
    ),
    (
        "server",
        "Uploads fail with 'Unable to save the file'",
        "File uploads stopped working this morning with *Unable to save the file*. The log says "
        "`open ./data/...: no space left on device`. Can I move the data directory while the server "
        "runs? {ver}.",
    ),
    (
        "server",
        "'too many open files' in the log after a few hours",
        "After a few hours of uptime the server logs `accept tcp [::]:8065: accept4: too many open "
        "files` and users can't connect until a restart. {os}, systemd, {ver}.",
    ),
    (
        "server",
        "Outgoing webhook to our internal service is refused",
        "Our outgoing webhook posts to a service in 10.0.0.0/8 and Mattermost logs `address "
        "forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration "
        "access to your internal network`. Where do I set that? {ver}.",
    ),
    (
        "server",
        "Link previews never appear on our offline server",
        "Link previews don't show for any site. Our server has no internet access, only the users "
        "do. Is there a way to get previews anyway? {ver}.",
    ),
    (
        "server",
        "Apache reverse proxy: login works, channels never load",
        "With Apache 2.4 as reverse proxy I can log in but the channel view spins forever. mod_proxy "
        "and mod_proxy_http are enabled, I did not enable anything for websockets. {ver}.",
    ),
    (
        "server",
        "Import job stays in 'pending' forever",
        "`mmctl import process` created the job but it stays pending for hours. Other jobs like data "
        "retention also never run. Two app servers behind a load balancer, {ver}.",
    ),
    (
        "server",
        "Container has the wrong timezone in the logs",
        "Timestamps in our logs are two hours off. The container has no tzdata and TZ is not set in "
        "our compose file. Does that affect users' times as well? {ver}.",
    ),
    (
        "server",
        "exec format error on Raspberry Pi",
        "Trying the official image on a Raspberry Pi 4 (64 bit OS):\n\n```\nexec /mattermost/bin/"
        "mattermost: exec format error\n```\n\nIs there an arm64 build?",
    ),
    (
        "server",
        "Operator: installation stuck in reconciling",
        "With the Mattermost operator, our installation stays `reconciling` and the pods are never "
        "created. The operator log says `ingress class nginx not found`. We use traefik on the "
        "cluster.",
    ),
    (
        "mobile",
        "No push notifications on iOS after rolling out our MDM profile",
        "After rolling out the app through our MDM with AppConfig, iOS devices get no push "
        "notifications any more. Android managed profiles are fine. App {app}, server {ver} with "
        "our own push proxy.",
    ),
    (
        "server",
        "GitLab SSO: token request failed after moving GitLab to a new domain",
        "We moved GitLab from git.old.example to git.new.example. GitLab login in Mattermost now "
        "fails with `Token request failed`. I updated the URLs in the System Console but not the "
        "application in GitLab. {ver}.",
    ),
    (
        "server",
        "High CPU since enabling Bleve on a small VPS",
        "Since enabling Bleve indexing on our 1 vCPU VPS the CPU is at 100% for hours and the UI "
        "crawls. ~40 users and 2 million posts imported from Slack. {ver}.",
    ),
    (
        "mobile",
        "Latest mobile app can't connect to our {old} server",
        "After the app updated itself to {app} nobody can log in; the app says the server version "
        "is not supported. Our server is {old}. Can we keep the old app?",
    ),
    (
        "server",
        "Some users can't connect, others can: split DNS",
        "Half of our users get *We couldn't connect to the Mattermost server*. It turns out they "
        "resolve the domain to the public IP, which our firewall doesn't hairpin. The others use "
        "the internal DNS. {ver}.",
    ),
    (
        "server",
        "MySQL error 1366 when posting emoji",
        "Posting any emoji fails with `Error 1366: Incorrect string value: '\\xF0\\x9F\\x98\\x80' "
        "for column 'Message'`. Database was created years ago with utf8. {ver}.",
    ),
    (
        "server",
        "nginx: upstream sent too big header during SAML login",
        "SAML login ends with 502 and the nginx error log shows `upstream sent too big header while "
        "reading response header from upstream`. Only for users with many groups. {ver}.",
    ),
    (
        "server",
        "Compose stack doesn't come back after a host reboot",
        "After rebooting the host the postgres container keeps restarting:\n\n```\nFATAL:  data "
        'directory "/var/lib/postgresql/data" has invalid permissions\n```\n\nWe use the '
        "docker-compose repo, {os}.",
    ),
    (
        "server",
        "Cloudflare tunnel: websocket closes with 1006",
        "We expose Mattermost {ver} through a Cloudflare tunnel. Messages only show after a reload "
        "and the console logs `WebSocket closed with code 1006`.",
    ),
    (
        "server",
        "HA cluster: users bounce between 'session expired' and logged in",
        "Two-node cluster, {ver}. Users are randomly logged out and back in. The cluster "
        "discovery page shows both nodes, but port 8074 between them is blocked by our firewall.",
    ),
    (
        "server",
        "Marketplace unreachable: proxy variables ignored",
        "The Marketplace says it can't connect. Our server only reaches the internet through "
        "`http://proxy.corp:3128`; I set HTTP_PROXY in /etc/environment but the service doesn't "
        "seem to use it. {ver}, systemd.",
    ),
    (
        "server",
        "SMTP: certificate is valid for mail.example.org, not smtp.internal",
        "Test connection fails with `x509: certificate is valid for mail.example.org, not "
        "smtp.internal`. We point Mattermost at an internal alias of the mail relay. {ver}.",
    ),
    (
        "mobile",
        "iOS users logged out every hour since we set up SAML",
        "Since switching to SAML, iPhone users must log in every hour. Session length for mobile is "
        "still the default as far as I can tell. App {app}, server {ver}.",
    ),
    (
        "server",
        "Notification emails end up in spam",
        "All our notification emails land in Gmail spam. We send through our own postfix on the "
        "same VM, no SPF or DKIM records yet. {ver}.",
    ),
    (
        "server",
        "Server on {old} keeps crashing at night",
        "Our server on {old} stops every night around 02:00 and systemd restarts it. The log ends "
        "with a plugin health check failure. I know it's an old version, but we can't upgrade yet.",
    ),
    (
        "omnibus",
        "Bundled Mattermost answers 502 after setting mattermost_external_url",
        "I set `mattermost_external_url 'https://chat.example.org'` in gitlab.rb and ran "
        "`gitlab-ctl reconfigure`. The page answers 502 Bad Gateway. `gitlab-ctl status` shows "
        "mattermost as down. {os}.",
    ),
    (
        "omnibus",
        "GitLab sign-in for the bundled Mattermost says invalid_client",
        "Sign in with GitLab fails with `Token request failed: invalid_client`. I created the "
        "application by hand instead of letting reconfigure do it. Omnibus GitLab on {os}.",
    ),
    (
        "omnibus",
        "Bundled Mattermost won't start after upgrading GitLab",
        "After upgrading GitLab across several major versions, the bundled Mattermost fails to "
        "start and the log under /var/log/gitlab/mattermost says the database schema is too old. "
        "We had Mattermost disabled for a year.",
    ),
    (
        "omnibus",
        "gitlab-ctl reconfigure resets mattermost config.json changes",
        "Every reconfigure overwrites the changes I made in the Mattermost System Console for "
        "SMTP. Where should these settings go when Mattermost comes with GitLab?",
    ),
]

FEATURE: list[Story] = [
    (
        "server",
        "Mute a thread without unfollowing it",
        "I want to stay in a thread but stop getting notified for a while. Today the only option is "
        "to unfollow, and then it disappears from my Threads view.",
    ),
    (
        "server",
        "Different notification sound per team",
        "I'm in three teams and can't tell by the sound which team needs me. A sound setting per "
        "team would help a lot.",
    ),
    (
        "server",
        "Archive channels automatically after a period without messages",
        "We have hundreds of stale project channels. An option to auto-archive channels with no "
        "posts for N days (with a warning first) would keep the sidebar clean.",
    ),
    (
        "server",
        "Export a single thread as Markdown",
        "For incident reviews we copy threads into our wiki by hand. An *Export thread* action that "
        "downloads Markdown with authors and timestamps would save us a lot of time.",
    ),
    (
        "mobile",
        "Edit the channel purpose from the mobile app",
        "Channel header and purpose can only be edited on desktop or web. Please allow editing them "
        "in the mobile app too.",
    ),
    (
        "server",
        "Built-in polls without a plugin",
        "The poll plugin is not allowed on our server. Simple polls (question, options, anonymous "
        "or not) built into the product would be great.",
    ),
    (
        "server",
        "Canned responses / message templates",
        "Our support team answers the same questions many times a day. Would be nice to save "
        "message templates and insert them with a shortcut.",
    ),
    (
        "server",
        "Show full names in the Threads list",
        "The Threads list shows usernames even when *Teammate name display* is set to full names. "
        "It would be more consistent to use the display setting there as well.",
    ),
    (
        "server",
        "Pin an announcement in every channel of a team",
        "As an admin I'd like to post an announcement that is pinned in every channel of a team, "
        "for things like maintenance windows.",
    ),
    (
        "server",
        "Move several channels to a sidebar category at once",
        "Please add multi-select in the sidebar so I can drag 20 channels into a category in one "
        "go instead of one by one.",
    ),
    (
        "server",
        "Passkeys / WebAuthn for login",
        "Is it possible to have passkey or security key login for email accounts? MFA with a TOTP "
        "app is the only option today.",
    ),
    (
        "server",
        "Channel-specific message retention in Team Edition",
        "Data retention per channel is Enterprise only. Small non-profits would love a basic "
        "version in Team Edition, even if it's only a global setting per channel.",
    ),
    (
        "server",
        "Read-only announcement channels",
        "We need channels where only admins can post and everyone else can only react and reply "
        "in threads. Any plans to support this without removing permissions by hand?",
    ),
    (
        "server",
        "Let guests use slash commands",
        "Guests can't use any slash command, not even /away. A permission to allow selected "
        "commands for guests would help our external partners.",
    ),
    (
        "mobile",
        "Swipe to reply on mobile",
        "Most chat apps let you swipe a message to reply to it. Could you add that gesture to the "
        "mobile app? Long-press > Reply takes three taps.",
    ),
    (
        "mobile",
        "Offline mode with queued messages",
        "When I'm on a train without signal, messages I write are lost. It would be great if the "
        "app queued them and sent them once the connection is back.",
    ),
    (
        "desktop",
        "Spell check in more than one language at a time",
        "Our team writes in German and English. Please support enabling two spell check languages "
        "at once in the desktop app.",
    ),
    (
        "desktop",
        "Start minimized to the tray on Linux",
        "There's an option to start the app on login, but on Linux it always opens the window. An "
        "option to start minimized to the tray would be nice.",
    ),
    (
        "server",
        "Remind me about unread mentions after a few hours",
        "If I haven't read a mention after 4 hours, I'd like a reminder. Easy to miss mentions on busy days.",
    ),
    (
        "server",
        "Translate messages inline",
        "We have colleagues in Brazil and Poland. A *Translate* action on a message using a "
        "translation service configured by the admin would make mixed channels much easier.",
    ),
    (
        "server",
        "Expiry date for guest accounts",
        "Contractors' guest accounts should deactivate themselves on a date we set when inviting "
        "them. Today we have to remember to do it.",
    ),
    (
        "server",
        "Custom emoji per team",
        "Please allow custom emoji to be restricted to one team. Our customer-facing team doesn't "
        "want the internal jokes.",
    ),
    (
        "server",
        "API endpoint for all threads a user follows across teams",
        "`/users/{{id}}/teams/{{team}}/threads` is per team. An endpoint returning followed threads "
        "across all teams would save our integration a lot of calls.",
    ),
    (
        "server",
        "Ephemeral messages from incoming webhooks",
        "Would like to be able to send an ephemeral message to one user through an incoming "
        "webhook, for CI notifications only the committer should see.",
    ),
    (
        "server",
        "Search: filter by file type",
        "Add a filter like `ext:pdf` to message search, not only in the file search tab.",
    ),
    (
        "server",
        "Search: exclude a channel from the results",
        "A bot channel floods every search. Could we get `-in:channel-name` to exclude a channel?",
    ),
    (
        "server",
        "Playbooks: conditional checklist items",
        "Checklist items that appear only when a field has a given value (e.g. severity = high) "
        "would make our incident playbook much shorter.",
    ),
    (
        "server",
        "Boards: recurring cards",
        "We'd love recurring cards (weekly report, monthly patching) that are created "
        "automatically on a schedule.",
    ),
    (
        "server",
        "Calls: record to our own storage",
        "Calls recordings currently need the recorder job. An option to store recordings in our "
        "existing S3 bucket with a retention rule would be helpful.",
    ),
    (
        "server",
        "Calls: background blur",
        "Is there any plan to add background blur for video in calls? Many of us work from home.",
    ),
    (
        "server",
        "Pronouns field in the profile",
        "Please add an optional pronouns field to the user profile, shown in the profile popover.",
    ),
    (
        "server",
        "Custom profile attributes in the popover",
        "We'd like to show department and location from LDAP in the profile popover. A way to "
        "define custom attributes would cover it.",
    ),
    (
        "server",
        "Theme that follows the OS light/dark schedule",
        "An option for the theme to switch automatically with the operating system's light or "
        "dark mode would be nice.",
    ),
    (
        "server",
        "Let admins disable downloading files",
        "For compliance we need an option to disable downloading attachments while still allowing "
        "previews in the browser.",
    ),
    (
        "server",
        "Limit who can use @channel in large channels",
        "There's a confirmation for @channel, but we'd like to restrict it to channel admins in "
        "channels with more than 100 members.",
    ),
    (
        "server",
        "Group messages with more than 8 people",
        "Group messages are limited to 8 people. Can we get a higher limit or a setting for it?",
    ),
    (
        "server",
        "Snooze a channel until a date",
        "Muting is forever until I unmute. Snoozing a channel until Monday would be great for "
        "project channels during vacation.",
    ),
    (
        "server",
        "Show who reacted in the mobile notification",
        "Feature request: a notification when someone reacts to my message, configurable per channel.",
    ),
    (
        "server",
        "Bulk-invite users from a CSV",
        "Suggestion: let team admins upload a CSV of emails to invite many people at once, with "
        "the team and channels to join.",
    ),
    (
        "server",
        "Message bookmarks with notes",
        "Saving a message is useful, but I'd like to add a short note to a saved message so I "
        "remember why I saved it.",
    ),
    (
        "server",
        "Keyboard shortcut to toggle the right sidebar",
        "Please add a shortcut to open and close the right-hand sidebar. I use a small laptop screen.",
    ),
    (
        "server",
        "Default sidebar categories for new team members",
        "Currently there is no way to give new members a predefined set of sidebar categories. "
        "Onboarding would be easier if admins could define them.",
    ),
    (
        "mobile",
        "Widget for unread mentions on the home screen",
        "An Android/iOS home screen widget that shows unread mentions would be useful for people "
        "who don't want push notifications.",
    ),
    (
        "server",
        "Two-factor enforcement for guests only",
        "Can we get the option to enforce MFA only for guest accounts? Our staff use SSO already.",
    ),
    (
        "server",
        "Allow editing a message for longer than the limit, per channel",
        "The edit time limit is global. We'd like no limit in team channels but a short one in "
        "announcement channels.",
    ),
    (
        "server",
        "Markdown tables: sortable columns",
        "It would be great if Markdown tables in posts could be sorted by clicking a column header.",
    ),
    (
        "omnibus",
        "Configure Mattermost plugins through gitlab.rb",
        "It would be nice to enable and configure Mattermost plugins through gitlab.rb like the "
        "other settings, so reconfigure keeps them.",
    ),
    (
        "omnibus",
        "Option to use an external Postgres for the bundled Mattermost",
        "We'd like the bundled Mattermost to use our external Postgres cluster like GitLab does. "
        "Please add settings for that in gitlab.rb.",
    ),
]

QUESTION: list[Story] = [
    (
        "server",
        "How do I create a bot account and get a token with the API?",
        "I can create a bot in the System Console, but I want to automate it. Which endpoints do I "
        "call to create the bot and then a token for it?",
    ),
    (
        "server",
        "Post a message as a specific user from a script",
        "We're migrating announcements from another tool. How can a script post a message so that "
        "it shows a given user as the author? Is a personal access token of that user the only way?",
    ),
    (
        "server",
        "Is there an endpoint for a user's unread messages?",
        "I'm writing a small dashboard. Is there an API endpoint that returns the unread messages "
        "(or at least the unread channels) of the current user?",
    ),
    (
        "server",
        "Personal access token vs session token",
        "What's the difference between a personal access token and the token I get from "
        "`/users/login`? Which should a long-running integration use?",
    ),
    (
        "server",
        "Interactive buttons in a webhook message",
        "How do I add buttons to a message sent through an incoming webhook, and where does the "
        "click go? An example payload would help.",
    ),
    (
        "server",
        "Plugin: register a slash command with autocomplete hints",
        "In a server plugin, how do I give my slash command subcommands and argument hints in the "
        "autocomplete? RegisterCommand works but shows no hints.",
    ),
    (
        "server",
        "Plugin: best way to store data per channel",
        "What's the recommended way for a plugin to store a small JSON document per channel? "
        "KV store with the channel id in the key, or something else?",
    ),
    (
        "server",
        "Get a channel id from its name",
        "I only have the team name and channel name in my script. How do I get the channel id "
        "with the REST API?",
    ),
    (
        "server",
        "Which ports does Calls need?",
        "We're planning to enable Calls. Which ports and protocols do we need to open on the "
        "firewall, and is a TURN server required?",
    ),
    (
        "server",
        "Does Mattermost support end-to-end encryption?",
        "Our security team asks whether messages are end-to-end encrypted or only in transit and "
        "at rest. Where is this documented?",
    ),
    (
        "server",
        "Can Team Edition be used commercially?",
        "We're a company of 40 people. Are we allowed to use the free Team Edition, or do we need a license?",
    ),
    (
        "server",
        "What happens to messages when a user is deactivated?",
        "If we deactivate an account, do its messages and files stay visible to others? What about DMs?",
    ),
    (
        "server",
        "Does push notification content go through your servers?",
        "If we use the hosted push notification service, does the message text leave our server? "
        "Is there a setting to only send a generic notification?",
    ),
    (
        "server",
        "Can I run Mattermost with SQLite for local testing?",
        "For plugin development I'd like to avoid running Postgres. Is SQLite supported in any way?",
    ),
    (
        "server",
        "How do I migrate from MySQL to Postgres?",
        "We're on MySQL and want to move to Postgres as recommended. Is there an official tool, "
        "and can it run with the server online?",
    ),
    (
        "server",
        "Where is the setting for the maximum file size?",
        "Where in the System Console do I change the maximum upload size? I looked under Files but "
        "didn't find it.",
    ),
    (
        "server",
        "Default language for new users",
        "How do I set German as the default language for all new users?",
    ),
    (
        "server",
        "Export all messages of one user for a data access request",
        "We received a GDPR data access request. How can we export all messages written by one "
        "user, across channels and DMs?",
    ),
    (
        "server",
        "Integration tests for a plugin",
        "How do people write integration tests for a Mattermost server plugin? Is there a test "
        "helper that starts a server?",
    ),
    (
        "server",
        "Which Go version do I need to build the server?",
        "I want to build the server from source. Which Go version is required, and where is this "
        "written down?",
    ),
    (
        "server",
        "Webapp development with hot reload",
        "How do I run the webapp locally against my own server with hot reload? The README "
        "mentions make targets but I'm not sure which one.",
    ),
    (
        "server",
        "Listen to websocket events from a Python client",
        "How can I subscribe to the websocket events (new posts, reactions) from a Python script? "
        "Do I need to authenticate the websocket separately?",
    ),
    (
        "server",
        "What is the API rate limit?",
        "What are the default rate limits of the REST API, and are they per user or per IP?",
    ),
    (
        "server",
        "Mention a user group from an integration",
        "Does `@groupname` in a message posted by a bot notify the members of that group?",
    ),
    (
        "server",
        "List the channels a user belongs to",
        "Which endpoint returns all channels a given user is a member of, across teams?",
    ),
    (
        "server",
        "Do outgoing webhooks work in private channels?",
        "Can an outgoing webhook trigger on messages in private channels, or only public ones?",
    ),
    (
        "server",
        "Upload a file and attach it to a post with the API",
        "What are the steps to upload a file with the API and then create a post that shows it? "
        "Do I need the file id from the upload response?",
    ),
    (
        "server",
        "Permissions a bot needs for private channels",
        "Our bot should post in a private channel. Is adding it to the channel enough, or does it "
        "need a special role?",
    ),
    (
        "server",
        "How do I use mmctl with a personal access token?",
        "I want to run mmctl from CI without a password. How do I log in with a personal access token?",
    ),
    (
        "server",
        "Bulk-import custom emoji",
        "How are custom emoji stored, and is there a way to import a few hundred of them at once?",
    ),
    (
        "server",
        "Is there a JavaScript client for the REST API?",
        "Is there an official JS/TypeScript client library I can use from Node to call the REST API?",
    ),
    (
        "server",
        "Do guests count as licensed users?",
        "For Enterprise licensing, do guest accounts count towards the number of users?",
    ),
    (
        "server",
        "Recommended hardware for 2,000 users",
        "What hardware do you recommend for about 2,000 users, 300 active at the same time? One "
        "server or already a cluster?",
    ),
    (
        "server",
        "Ephemeral message from a plugin",
        "How do I send a message only one user can see from a server plugin?",
    ),
    (
        "server",
        "Can Mattermost be embedded in an iframe?",
        "We want to show a channel inside our intranet page. Is embedding in an iframe supported, "
        "and which headers need changing?",
    ),
    (
        "server",
        "What is the props field of a post for?",
        "The post object has a `props` field. What is it used for, and is it safe for an "
        "integration to put its own keys in there?",
    ),
    (
        "server",
        "Paginate posts with since",
        "How does `since` work on `GET /channels/{{id}}/posts`? Does it also return edited posts, "
        "and how do I page through the results?",
    ),
    (
        "server",
        "Where do I find the team id?",
        "Where can I see the team id in the UI? I need it for an API call.",
    ),
    (
        "server",
        "Plugin hook for reactions",
        "Is there a plugin hook that fires when someone adds a reaction to a post?",
    ),
    (
        "server",
        "Translate a plugin's UI strings",
        "How do plugins provide translations for their webapp strings? Is there an i18n helper?",
    ),
    (
        "mobile",
        "Can the mobile app connect to several servers?",
        "Can I add two servers (work and community) in the mobile app and switch between them?",
    ),
    (
        "server",
        "How do I turn off the Marketplace?",
        "We don't want users to see or install plugins from the Marketplace. Which setting disables it?",
    ),
    (
        "server",
        "How does the data retention job decide what to delete?",
        "Does data retention delete by post creation date or last edit? And are files in S3 "
        "deleted at the same time?",
    ),
    (
        "omnibus",
        "Which Mattermost version ships with which GitLab release?",
        "How do I find out which Mattermost version is bundled with a given GitLab package version?",
    ),
    (
        "omnibus",
        "Can I use the bundled Mattermost with an external GitLab?",
        "Is it possible to run the Mattermost that comes with the Omnibus package on one host "
        "and use GitLab SSO from a GitLab on another host?",
    ),
]

# What staff answer when they decide a post's type (one is picked per redirected issue).
REDIRECTS: dict[str, list[str]] = {
    "troubleshooting": [
        "Thanks for reaching out! This looks like a configuration issue rather than a bug in "
        "Mattermost. Please post this on the forum "
        "(https://forum.mattermost.com/c/trouble-shoot/16) where the community can help you "
        "troubleshoot. Closing here.",
        "Hi, GitHub issues are for confirmed bugs. For help with your deployment please ask on "
        "our forum: https://forum.mattermost.com/c/trouble-shoot/16 and include your config "
        "(without secrets) and the logs.",
        "This is a setup problem with the proxy in front of the server, not something we can fix "
        "in the product. Please post it on the forum so others can find the answer too.",
        "Thanks! I'd suggest asking in the ~peer-to-peer-help channel on our community server "
        "(https://community.mattermost.com), people there run the same setup.",
    ],
    "feature_proposal": [
        "Thanks for the suggestion! We track feature requests on the feature idea forum: "
        "https://mattermost.com/suggestions/ - please post the idea there so others can vote "
        "for it.",
        "Hi, this would be a new feature rather than a bug. Could you post your idea on UserVoice "
        "so the product team can prioritise it? Closing this issue.",
        "Nice idea. Please post the idea on our feature idea forum and link it here; that's "
        "where the PMs look when planning.",
    ],
    "bug": [
        "Thanks for the detailed report, I reproduced this on {ver} and created a ticket: MM-{ticket}.",
        "I can reproduce this on master as well. Created a Jira ticket MM-{ticket} for the team, "
        "we'll update this issue when there's a fix.",
        "Confirmed, I was able to reproduce it with the steps above. Tracking in MM-{ticket}.",
    ],
    "question": [
        "You can do this with the REST API, see the documentation here: "
        "https://developers.mattermost.com/api-documentation/ - let us know if anything is "
        "unclear.",
        "This is covered in the docs: https://docs.mattermost.com - search for the setting name "
        "there. Closing since it's not a bug.",
        "Good question! Please see the documentation at https://developers.mattermost.com "
        "(plugins section), it has an example for exactly this.",
    ],
}

# What other people write under a post (not a decision).
CHATTER: list[str] = [
    "Same here on {ver}.",
    "+1, we see this too.",
    "Any update on this?",
    "We have the same problem since last week.",
    "Thanks, that fixed it for us!",
    "I can confirm this on a fresh install.",
]

# A first answer on the forum or Stack Overflow, by type (no decision: the category or tag decides).
FORUM_ANSWERS: dict[str, list[str]] = {
    "troubleshooting": [
        "Can you post the relevant part of your proxy config and the server log from the time it "
        "happens? Remove any secrets first.",
        "This usually means the websocket upgrade headers are not passed through. Compare your "
        "config with the example in the docs and reload the proxy.",
        "Check the permissions of the data and config folders: the server runs as its own user and "
        "needs to write there.",
        "Which version are you on exactly, and how did you install it? A lot changed since then.",
        "Your certificate chain is incomplete. Configure the full chain, not just the leaf "
        "certificate, and the apps will connect again.",
    ],
    "bug": [
        "Thanks, I can see the same on our test server. I'll pass it to the team.",
        "Confirmed on {ver} as well. Looks like a regression.",
        "Thanks for the detailed steps, this is now tracked internally.",
    ],
    "feature_proposal": [
        "Thanks for the idea! Others, please vote with a like if you want this too.",
        "Interesting idea. In the meantime a plugin could cover part of it.",
        "We had a similar request before; I merged the votes here.",
    ],
    "question": [
        "Yes, that's possible with the REST API; the endpoint is documented in the API reference.",
        "You can find this in the System Console, the docs have a page for each section.",
        "Have a look at the plugin starter template, it shows exactly this.",
        "Short answer: yes. The docs explain the details and the limits.",
    ],
}

FORUM_THANKS: list[str] = [
    "Thanks, that was it!",
    "That worked, thank you.",
    "Thanks for the quick answer.",
    "Perfect, solved.",
]

UV_COMMENTS: list[str] = [
    "+1, we need this too.",
    "This would help our team a lot.",
    "Voted. Any news on this?",
]

GITLAB_BOT_NOTE = (
    'Thanks for your contribution to GitLab! This issue was automatically labelled ~"group::distribution".'
)

# More of each kind: bugs that paste errors and crash logs (a product defect shows errors too),
# setup problems written tersely, wishes and questions that go through the bug form.
BUG += [
    (
        "server",
        "Server panics while running a bulk export with attachments",
        "`mmctl export create --attachments` crashes the server after a few minutes:\n\n```\npanic: "
        "runtime error: index out of range [3] with length 3\n\ngoroutine 9184 [running]:\n"
        "github.com/mattermost/mattermost/server/v8/channels/app.(*App).exportAttachments\n```\n\n"
        "Without `--attachments` the export finishes. {ver}.",
    ),
    (
        "server",
        "Right-hand sidebar shows 'Something went wrong' for threads with a deleted root",
        "Opening a thread whose root post was deleted by an admin shows *Something went wrong* in "
        "the right-hand sidebar and the console has `TypeError: Cannot read properties of null "
        "(reading 'user_id')`. The channel itself is fine. {ver}, {browser}.",
    ),
    (
        "server",
        "Draft sync fails with 500 for messages longer than 4000 characters",
        "Long drafts are not synced to other devices. The request to `/api/v4/drafts` answers 500 "
        "and the server log shows `value too long for type character varying(4000)`. {ver}, "
        "Postgres.",
    ),
    (
        "server",
        "Image proxy returns 500 for SVG images",
        "With the image proxy enabled, every SVG link preview is broken and the proxy answers "
        "500 with `image: unknown format`. PNG and JPEG are fine. {ver}.",
    ),
    (
        "server",
        "Channel settings error for channel admins: 'Unable to get role'",
        "A channel admin who is not a team admin opens *Channel Settings* and gets the error "
        "*Unable to get role* at the top of the dialog; saving still works. {ver}.",
    ),
    (
        "server",
        "Group sync job fails with a duplicate key error",
        'The LDAP group sync job fails every night since {ver}:\n\n```\n{{"level":"error",'
        '"msg":"Failed to sync groups","error":"pq: duplicate key value violates unique '
        'constraint \\"groupmembers_pkey\\""}}\n```\n\nIt worked before the upgrade and nothing '
        "changed in our directory.",
    ),
    (
        "server",
        "Search with a hashtag and a date filter returns an error",
        "Searching for `#release on:2025-03-04` shows *An error occurred* and the API returns 400 "
        "`invalid search parameters`. Either filter alone works. {ver}.",
    ),
    (
        "server",
        "OAuth apps page crashes when an app has no callback URL",
        "*Integrations > OAuth 2.0 Applications* shows a blank page if one of the apps was created "
        "through the API without callback URLs. Console: `TypeError: e.callback_urls is undefined`. "
        "{ver}.",
    ),
    (
        "server",
        "Webapp reconnects in a loop after the laptop wakes from sleep",
        "After the laptop wakes up, the web app reconnects every two seconds forever and messages "
        "arrive late; only a reload helps. The console logs `websocket closed` and `reconnecting` "
        "over and over. {browser}, {ver}. Not seen before {ver}.",
    ),
    (
        "mobile",
        "Android app crashes when rotating during video playback",
        "Rotating the phone while a video attachment plays crashes the app:\n\n```\nFATAL "
        "EXCEPTION: main\njava.lang.IllegalStateException: Fragment not attached to an activity\n"
        "    at com.mattermost.videoplayer.VideoFragment.onConfigurationChanged\n```\n\nApp {app}, "
        "{mos}.",
    ),
    (
        "mobile",
        "iOS app crashes when picking an emoji from the skin tone selector",
        "Long-pressing an emoji to choose a skin tone and picking one crashes the app every time. "
        "App {app}, {mos}. Crash report: `EXC_BREAKPOINT` in `EmojiPicker.selectSkinTone`.",
    ),
    (
        "mobile",
        "Error 'Something went wrong' when opening saved messages",
        "The Saved messages screen shows *Something went wrong, please try again* since {app}. "
        "Pull to refresh gives the same error. {mos}, server {ver}.",
    ),
    (
        "omnibus",
        "Bundled Mattermost fails to start after reconfigure with a config.json error",
        "After `gitlab-ctl reconfigure` the bundled Mattermost refuses to start: `invalid character "
        "'}}' looking for beginning of object key string` in config.json. The file written by "
        "reconfigure has a trailing comma when `mattermost['plugin_directory']` is set.",
    ),
]

TROUBLESHOOTING += [
    (
        "server",
        "server not start after update",
        "i update to {ver} with apt and now mattermost not start anymore. systemctl say failed. "
        "before it was working ok. what to do?",
    ),
    (
        "server",
        "push not working help",
        "push notification not working for nobody. i have enable it in system console with "
        "https://push.mattermost.com but nothing come. server {ver} in our company network.",
    ),
    (
        "server",
        "cant upload files bigger than 1MB",
        "Uploading anything over about 1 MB fails immediately, small files work. Max file size in "
        "the console is 50 MB. We have nginx in front, default config from the distribution.",
    ),
    (
        "server",
        "LDAP sync works but LDAP users can't log in",
        "The AD/LDAP sync imports all our users, but when they try to log in they get *AD/LDAP "
        "login failed*. Login ID attribute is set to `mail` and people type their username. {ver}.",
    ),
    (
        "server",
        "Traefik v3: messages only appear after refreshing",
        "Running behind Traefik v3 with the docker provider. Messages from others only show up "
        "after I refresh. I think the websocket route is missing but I don't know how to add it.",
    ),
    (
        "server",
        "Postgres 16: password authentication failed",
        "After moving to Postgres 16 the server fails with `pq: password authentication failed for "
        'user "mmuser"`. The password is correct; the old server used md5 and the new one '
        "scram-sha-256. {ver}.",
    ),
    (
        "server",
        "docker pull says access denied for the image",
        "`docker compose pull` fails with `pull access denied for mattermost-enterprise, repository "
        "does not exist`. I copied the compose file from an old guide.",
    ),
    (
        "server",
        "systemctl says active but the page doesn't load",
        "Mattermost is active (running) and listens on 8065 according to `ss -tlnp`, but from other "
        "machines the page doesn't load at all. {os}, firewalld is on.",
    ),
    (
        "server",
        "Bleve: permission denied after moving the data directory",
        "We moved the data directory to a bigger disk and now the Bleve indexer logs `open "
        "/data/bleveindexes/posts.bleve: permission denied` and search returns nothing. {ver}.",
    ),
    (
        "server",
        "Our Mattermost stopped sending emails after the mail server change",
        "IT replaced our mail server last weekend and since then no emails are sent. The SMTP "
        "settings still point to the old host name. Where do I change it and do I need to restart?",
    ),
]

FEATURE += [
    (
        "server",
        "Hide the 'Add members' prompt in empty channels",
        "Observed: every new channel shows a big *Add members* prompt, even in channels that are "
        "meant to stay empty for bots. Expected: an option to hide it.",
    ),
    (
        "server",
        "Export a playbook as YAML",
        "We keep our processes in git. It would be great to export and import playbooks as YAML "
        "so they can be reviewed like code.",
    ),
    (
        "server",
        "Sort channel members by role",
        "In the members panel, admins should be listed first. Please add sorting by role.",
    ),
    (
        "server",
        "Markdown in the channel purpose",
        "Links in the channel purpose are plain text. Allowing Markdown there would make the "
        "purpose much more useful.",
    ),
    (
        "server",
        "Group direct messages by team in the sidebar",
        "Direct messages are shown in every team. An option to show only the DMs of people in the "
        "current team would reduce clutter.",
    ),
    (
        "server",
        "Set a channel's default notification level as an admin",
        "Please let channel admins set the default notification level for a channel (e.g. "
        "mentions only) that new members get.",
    ),
    (
        "server",
        "Allow a bot to be added to all channels of a team at once",
        "When we install a bot we have to add it channel by channel. An option to add it to every "
        "channel of a team would save a lot of clicks.",
    ),
    (
        "mobile",
        "Mark all channels as read from the mobile app",
        "There's no way to mark everything as read in the mobile app. A button at the top of the "
        "channel list would be great after a vacation.",
    ),
    (
        "server",
        "Show edit history to channel admins only",
        "Feature request: a setting so that the edit history of messages is visible only to channel "
        "admins, not to every member.",
    ),
    (
        "server",
        "Per-channel setting for link previews",
        "We'd like to turn off link previews in some channels (e.g. alerts) while keeping them in "
        "others. Currently there is no way to do that.",
    ),
]

QUESTION += [
    (
        "server",
        "Is it normal that the search index is bigger than the database?",
        "Our Bleve index folder is 3x the size of the database. Is that normal, and can I shrink it?",
    ),
    (
        "server",
        "Is SSO with Entra ID available in Team Edition?",
        "Can we use single sign-on with Microsoft Entra ID on Team Edition, or is it Enterprise "
        "only? What are the options otherwise?",
    ),
    (
        "server",
        "Which database versions are supported?",
        "Which Postgres versions are supported by {ver}, and where can I see when a version stops "
        "being supported?",
    ),
    (
        "server",
        "How do I reset a user's MFA?",
        "A user lost their phone. How can an admin reset their multi-factor authentication?",
    ),
    (
        "server",
        "Can a bot read messages in a channel it is not a member of?",
        "Does a bot need to be a member of a public channel to read its posts through the API?",
    ),
    (
        "server",
        "How do I change the site name shown in emails?",
        "Emails say *Mattermost* in the subject. Where do I set our own site name?",
    ),
    (
        "desktop",
        "Does the desktop app support proxy auto-config files?",
        "Does the desktop app use the system's PAC file, or do we have to configure the proxy "
        "somewhere else?",
    ),
    (
        "server",
        "How can I post a message without a link preview?",
        "Is there a way to post a single message with a link but without the link preview?",
    ),
]
