"""Who is behind an address: RADIUS accounting, proxy authentication, directory groups.

    settings     the ``identity`` configuration section
    model        Identity: a person, their directory groups, the source and time of identification
    radius       RFC 2866 accounting packets: parse, verify the Request Authenticator, answer
    sessions     the live address -> person map from accounting, with expiry, persisted
    listener     the accounting listener (a datagram protocol on the service loop)
    book         the snapshot the DNS and HTTP paths read: address -> Identity
    userfile     the local user file (scrypt password hashes)
    ldap         LDAP / Active Directory bind, search and memberOf (ldap3)
    proxyauth    Proxy-Authorization: Basic, cached, checked off the event loop
    metrics      counters with bounded labels only (outcome); never a user or address
    commands     `filterproxy identity ...`

The classification core never calls any of this: the service looks a person up and hands
their name and directory groups to the core on the :class:`~filterproxy.model.Query`.
"""
