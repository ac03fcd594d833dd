"""`python -m dashapp`: run the app locally on the embedded defaults (127.0.0.1:$PORT, debug only with SIM_DEBUG=1)."""
from dashapp.app import app
from dashapp.platform.config import settings

if __name__ == "__main__":
    print(f"Inventory simulator on http://127.0.0.1:{settings.port}/", flush=True)
    app.run(host="127.0.0.1", port=settings.port, debug=settings.debug)
