"""Cases: enforcement cases, parties, patrols and the stage machine from initiation to
archiving (第二条, 第十一条)."""
