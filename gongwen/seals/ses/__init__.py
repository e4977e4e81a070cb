"""Django-free electronic seal core: GB/T 38540-2020 SES structures, seal images.

Nothing here imports Django (import-linter contract "cores are Django-free").
"""
