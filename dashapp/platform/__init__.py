"""The web app's platform: settings, the session and job stores, session ids, uploads' keys, workers. No Dash."""
