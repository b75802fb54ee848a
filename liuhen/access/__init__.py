"""Access: may this person do this to this object now: roles, the permission matrix, scopes,
restrict() and get_for(), login and TOTP, personal API tokens (第十六条, 第十七条, 第二十六条)."""
