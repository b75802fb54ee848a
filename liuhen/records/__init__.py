"""Records: a case's written records (documents, internal approvals, service), generated
documents (PDF) and the levy and fee imports (第四条至第九条, 第十九条)."""
