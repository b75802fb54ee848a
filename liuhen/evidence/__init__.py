"""Evidence: the vault of recordings (video, audio, photos): ingest (browser, tus, station),
storage, derived media, marks, playback and fixity (第十三条, 第十八条, 第二十条, 第二十六条)."""
