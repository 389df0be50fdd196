"""Slack: the Bolt app over `Chatops`, Block Kit rendering, channel notices, the servers.

blocks     Message → Block Kit (pure)            home      the App Home dashboard (pure)
listeners  /paastis, buttons, App Home, errors   reply     where answers go (`Destination`s)
identity   who clicks: admins, user groups       poster    channel notices and reports
app        the Bolt App, its WebClients, wiring  server    run_slack: HTTP or Socket Mode
"""
