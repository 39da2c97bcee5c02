"""What a person or a system can do: one function per action, called alike by the CLI, the web and the API.

Each operation takes the acting account (`accounts.Actor`), checks its permission, does the work in the
caller's session, writes the audit entry (linked to the account and, for the web, the client address)
and returns typed results. Operations never print and never know whether a terminal or a browser asked.

    campaigns.py   read and check campaign files or uploads, save drafts, compare with the version fixed,
                   the lifecycle, the audit log
    preview.py     what a campaign would send: recipient, fire time and slot chosen as the sender would
    sending.py     send now, retry failures, the deliveries (filtered, paged, exported), fan-outs running
    monitoring.py  the status of every campaign and channel: the console's monitor, `status`, the API's /status
    stations.py    a station's slots and its aired / not aired reports; portal links; counts for staff
    directory.py   imports (from a path or an uploaded file) and listings
    channels.py    build every channel from its settings, to check them
    cap.py         a campaign's CAP alert, and an alert as a draft campaign
    reports.py     delivery reports a gateway pushes to the hook
"""
