"""The service's state: a key-value store with revisions (SQLite on one machine, etcd
for several), keys laid out as the specification's section 5.2.

Every backend offers the same three things, the ones etcd has: read keys with the
revision each was last modified at, read a prefix, and commit a transaction of puts
and deletes guarded by compare-and-swap on those revisions. All allocation logic
sits above that (:mod:`netc.service.records`), so it works unchanged across any
number of processes sharing one store.
"""

from netc.service.store.base import Compare, Entry, Store, StoreUnavailable, open_store

__all__ = ["Compare", "Entry", "Store", "StoreUnavailable", "open_store"]
