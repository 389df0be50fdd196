"""Slack: the Bolt app over `Chatops`, Block Kit rendering, channel notices, the servers.

gate       signature, replays, payload shape     blocks         Message → Block Kit (pure)
listeners  /paastis, buttons, App Home, errors   home           the App Home dashboard (pure)
identity   who clicks: admins, user groups       destinations   where answers go (`Destination`s)
outbound   every post and edit: paced, retried   response_urls  answers to one person, Slack hosts only
pacing     Slack's rate limits as token buckets  poster         channel notices and reports
app        the Bolt App, its WebClients, wiring  server         run_slack: HTTP or Socket Mode
"""
