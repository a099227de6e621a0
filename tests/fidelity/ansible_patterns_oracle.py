"""Test-only oracle: ansible-core's own InventoryManager.list_hosts (the code
behind `ansible --list-hosts`) for many patterns in one process.

Usage: python ansible_patterns_oracle.py INVENTORY < patterns (one JSON
string a line); prints one JSON object a line: hosts (in order), warnings.
"""
import json
import sys

from ansible.inventory import manager
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

warnings = []
manager.display.warning = lambda msg, *a, **k: warnings.append(str(msg))
inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
for line in sys.stdin:
    pattern = json.loads(line)
    warnings.clear()
    # Both caches, or a pattern seen before answers without its warnings.
    inventory.clear_pattern_cache()
    inventory._hosts_patterns_cache = {}
    try:
        hosts = [getattr(h, "name", h) for h in inventory.list_hosts(pattern)]
    except Exception as e:  # as the CLI: the selection is empty
        hosts = []
        warnings.append("error: %s" % e)
    print(json.dumps({"hosts": hosts, "warnings": list(warnings)}), flush=True)
