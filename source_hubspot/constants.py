"""Every HubSpot number and name the Python components use, in one place (the manifest names its own)."""

# Values of credentials.credentials_title (the keys of the manifest's SelectiveAuthenticator).
OAUTH_CREDENTIALS = "OAuth Credentials"
PRIVATE_APP_CREDENTIALS = "Private App Credentials"

# v4 association batch read: HubSpot accepts up to 1,000 inputs per call (2025 changelog); each result pages its
# own targets with paging.next.after.
ASSOCIATION_BATCH_SIZE = 1000

# Refresh the OAuth access token before HubSpot's expires_in runs out: 10 % of its lifetime, at most 5 minutes
# early (HubSpot issues 1,800 s tokens today).
TOKEN_REFRESH_MARGIN_FRACTION = 0.1
TOKEN_REFRESH_MARGIN_MAX_SECONDS = 300.0
