"""Campaigns along their life: the file format (`file`), checks against the directory and storage
(`store`), content checks (`checks`), the approved version that fixes what is sent (`versions`), and
the lifecycle of statuses with its audit (`lifecycle`)."""
