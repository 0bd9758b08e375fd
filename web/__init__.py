"""The browser wing: the staff app (the head's dashboard, the TV board for smart TVs,
later the officer's console) and the public app (the citizen's live ticket), both on
Starlette and uvicorn, each one MQTT client of the wire contract. See
docs/architecture.md ("The web wing")."""
