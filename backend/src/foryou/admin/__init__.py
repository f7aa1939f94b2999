"""The app admin's screens: brokers' connections, the agency connection, app users."""
