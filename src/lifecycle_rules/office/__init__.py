"""What people open: the office's CSV/XLSX of warnings, the monthly bulletin (通报) and
the letters (预警提示函, 督办通知 ...). Outside the pure core: it reads results and packs
and writes files; the core never imports it."""
