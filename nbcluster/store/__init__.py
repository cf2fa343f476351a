"""The versioned object store ("etcd"): objects, resourceVersions, watch, persistence."""

from nbcluster.store.memory import Store, Watch, WatchEvent
from nbcluster.store.persistence import Persistence, SqlitePersistence

__all__ = ["Persistence", "SqlitePersistence", "Store", "Watch", "WatchEvent"]
