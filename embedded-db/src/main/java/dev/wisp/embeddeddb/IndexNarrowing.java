package dev.wisp.embeddeddb;

import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The library uses a unique index only for a filter that names exactly that index's keys: any other
 * filter ({@code {_id, v}}, {@code {_id, $and: [...]}}) scans the whole collection, so such a command
 * got slower as the collection grew. Here a filter that names every key of a unique index with a
 * plain value also looks up that index first and matches the whole filter against the (at most one)
 * document found. The result is the same: a document matching the whole filter matches those keys.
 */
final class IndexNarrowing {

    private IndexNarrowing() {
    }

    /**
     * The positions a unique index gives for the part of {@code query} naming its keys; null when the
     * library handles the query with an index itself, or no unique index's keys are all in it.
     */
    private static <P> Iterable<P> positions(List<Index<P>> indexes, Document query) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        for (Index<P> index : indexes) {
            if (index.canHandle(query)) {
                return null;
            }
        }
        Set<String> queried = query.keySet();
        for (Index<P> index : indexes) {
            if (!index.isUnique()) {
                continue;
            }
            List<IndexKey> keys = index.getKeys();
            Document part = new Document();
            for (IndexKey key : keys) {
                if (!queried.contains(key.getKey())) {
                    part = null;
                    break;
                }
                part.put(key.getKey(), query.get(key.getKey()));
            }
            if (part != null && index.canHandle(part)) {
                return index.getPositions(part);
            }
        }
        return null;
    }

    /**
     * A collection's query, for both backends' collections (whose library classes share no parent of ours): the
     * documents at a unique index's {@link #positions} matched against the whole filter, or the library's own
     * query where there are none.
     */
    static <P> QueryResult narrowedQuery(List<Index<P>> indexes, Document query,
                                         Function<Iterable<P>, QueryResult> matchAt,
                                         Supplier<QueryResult> libraryQuery) {
        Iterable<P> positions = positions(indexes, query);
        return positions == null ? libraryQuery.get() : matchAt.apply(positions);
    }

    static final class NarrowingMemoryDatabase extends MemoryDatabase {
        NarrowingMemoryDatabase(String name, CursorRegistry cursorRegistry) {
            super(name, cursorRegistry);
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
            return new NarrowingMemoryCollection(this, collectionName, options, cursorRegistry);
        }
    }

    static final class NarrowingMemoryCollection extends MemoryCollection {
        NarrowingMemoryCollection(MongoDatabase database, String name, CollectionOptions options,
                                  CursorRegistry cursorRegistry) {
            super(database, name, options, cursorRegistry);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                             int batchSize, Document fieldSelector) {
            return narrowedQuery(getIndexes(), query,
                positions -> matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize,
                    fieldSelector),
                () -> super.queryDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector));
        }
    }

    /** Opens the databases of one MVStore; an inner class, so the store is there while H2Database's constructor opens the collections. */
    static final class H2Databases {
        private final MVStore store;

        H2Databases(MVStore store) {
            this.store = store;
        }

        MongoDatabase open(String name, CursorRegistry cursorRegistry) {
            return new NarrowingH2Database(name, cursorRegistry);
        }

        private final class NarrowingH2Database extends H2Database {
            NarrowingH2Database(String name, CursorRegistry cursorRegistry) {
                super(name, store, cursorRegistry);
            }

            /**
             * Opens the index's map with a faster key type, and values (document ids) in {@link CompactObjectType}'s
             * encoding, first; H2Database's own then finds it open.
             */
            @Override
            protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName,
                                                           List<IndexKey> keys, boolean sparse) {
                store.openMap(getFullCollectionNamespace(collectionName) + "._index_" + indexName,
                    new MVMap.Builder<KeyValue, Object>().keyType(new IndexKeyType()).valueType(new CompactObjectType()));
                return super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse);
            }

            /**
             * As H2Database's own, with the same map names, so existing files open unchanged; the documents are
             * written in {@link CompactObjectType}'s encoding (and read in both), as are ObjectId ids.
             */
            @Override
            protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
                String namespace = getFullCollectionNamespace(collectionName);
                MVMap<Object, Document> dataMap = store.openMap("databases." + namespace,
                    new MVMap.Builder<Object, Document>().keyType(new CompactObjectType())
                        .valueType(new CompactObjectType()));
                MVMap<String, Object> metaMap = store.openMap("meta." + namespace);
                return new NarrowingH2Collection(this, collectionName, options, dataMap, metaMap, cursorRegistry);
            }
        }
    }

    static final class NarrowingH2Collection extends H2Collection {
        NarrowingH2Collection(MongoDatabase database, String name, CollectionOptions options,
                              MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap,
                              CursorRegistry cursorRegistry) {
            super(database, name, options, dataMap, metaMap, cursorRegistry);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                             int batchSize, Document fieldSelector) {
            return narrowedQuery(getIndexes(), query,
                positions -> matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize,
                    fieldSelector),
                () -> super.queryDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector));
        }
    }
}
