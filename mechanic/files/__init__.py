"""Small file-system helpers every layer shares: safe reads of user files, lossless
names, private state files, locks and line alignment."""
