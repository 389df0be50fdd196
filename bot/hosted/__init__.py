"""The hosted edition: one deployment serving many Slack workspaces, each installed with
"Add to Slack" and running its own complete single-workspace Paastis (bot.wiring).

    crypto      secrets sealed with Fernet/MultiFernet from PAASTIS_SECRET_KEY, bound to a team
    registry    the hosted registry (its own SQLite file, 0600): installations, OAuth states,
                workspaces, plans, provider connections, apps known and pinned
    plans       the plans and their limits (pure)
    settings    the hosted edition's settings from the environment
    stores      slack_sdk's InstallationStore / OAuthStateStore over the registry
    monitored   the provider seam that keeps a workspace within its plan's app limit
    tenants     one Paastis per workspace, built on demand, closed on uninstall
    admin       /paastis connect · settings · connections · plan · monitor · unmonitor
    modals      the Block Kit views of connect and settings, and reading their submissions
    app         the Bolt app: OAuth install (state, pages), authorization by installation
    routes      each request to its workspace's Listeners, or to the admin; the Home tab
    rotation    bot tokens rotated ahead of expiry (token rotation on)
    uninstall   app_uninstalled / tokens_revoked, and the purge after the grace period
    metrics     /metrics in Prometheus text format
    redaction   the logging filter that keeps secrets out of every log line
    server      `paastis serve` in hosted mode; operator commands (plan, secrets, workspaces)
"""
