"""The one web app: the REST API, and the pages built on the same operations.

    app.py        the app factory (`create_app`): settings, database, error documents, size limits, routers
    problems.py   every error as an RFC 9457 problem document (application/problem+json)
    auth.py       who is calling (Bearer token, or a login the console adds) and permission checks
    limits.py     request and upload size limits (413 before anything is read too far)
    signing.py    the signing secret for sessions and links
    api/          /api/v1: JSON over the operations layer
Pages (console/, portal/, public/), callbacks (hooks/), static/ and templates/ sit beside api/ as
routers of their own, included in `app.py`.
"""
