package dev.wisp.embeddeddb;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DocumentWithPosition;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerException;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The library uses a unique index only for a filter that names exactly that index's keys: any other
 * filter ({@code {_id, v}}, {@code {_id: {$in: ids}, status}}, {@code {_id, $and: [...]}}) scans the whole
 * collection, so such a command got slower as the collection grew. Here a filter that names every key of a
 * unique index with a plain value, or an {@code $in} list of them, also looks up each value in that index first
 * and matches the whole filter against the documents found, taken in scan order. The result is the same: a
 * document matching the whole filter matches those keys.
 * <p>
 * The library ignores non-unique indexes altogether; here they are {@link NonUniqueIndex}es, and a filter
 * that names the first keys of one with plain values (or {@code $in} lists of them) is matched against the documents under those values
 * only (see {@link NonUniqueNarrowing}).
 */
final class IndexNarrowing {

    private IndexNarrowing() {
    }

    /** Keeps the lookups of {@code $in} lists in a unique index's keys to a bounded number. */
    private static final int MAX_LOOKUPS = 4096;

    /**
     * The positions a unique index gives for the part of {@code query} naming its keys, in the order a scan reads
     * them, each once; null when the library handles the query with an index itself, or no unique index's keys
     * are all in it. Plain values and {@code $in} lists of them (see {@link IndexValues#conditionValues}) are
     * looked up one combination at a time; a regex on a single key is left to the library's lookup; other
     * operators and other {@code $in} lists (null, arrays, regexes, subdocuments in them) to a scan.
     */
    private static <P> List<P> positions(NonUniqueNarrowing.Narrowable<P> collection, Document query) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        List<Index<P>> indexes = collection.getIndexes();
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
            if (!keys.stream().allMatch(key -> queried.contains(key.getKey()))) {
                continue;
            }
            List<Document> lookups = lookups(keys, query);
            List<P> found = lookups == null ? null : new ArrayList<>();
            for (int i = 0; lookups != null && i < lookups.size() && found != null; i++) {
                if (index.canHandle(lookups.get(i))) {
                    index.getPositions(lookups.get(i)).forEach(found::add);
                } else {
                    found = null;
                }
            }
            if (found == null) {
                Document part = new Document();
                keys.forEach(key -> part.put(key.getKey(), query.get(key.getKey())));
                // Not an $in list the above refused: the library looks each element up as a plain value, so
                // would miss what a regex in the list matches.
                if (part.values().stream().noneMatch(value -> value instanceof Document || value instanceof Collection)
                    && index.canHandle(part)) {
                    found = new ArrayList<>();
                    index.getPositions(part).forEach(found::add);
                }
            }
            if (found != null) {
                return NonUniqueNarrowing.inScanOrder(collection, found);
            }
        }
        return null;
    }

    /**
     * One filter of plain values for each combination of the query's conditions on the keys; null when one is not
     * a plain value or an {@code $in} list of them, or there would be too many.
     */
    private static List<Document> lookups(List<IndexKey> keys, Document query) {
        List<Document> lookups = List.of(new Document());
        for (IndexKey key : keys) {
            List<Object> values = IndexValues.conditionValues(query.get(key.getKey()));
            if (values == null || lookups.size() * values.size() > MAX_LOOKUPS) {
                return null;
            }
            List<Document> next = new ArrayList<>(lookups.size() * values.size());
            for (Document lookup : lookups) {
                for (Object value : values) {
                    Document extended = new Document(lookup);
                    extended.put(key.getKey(), value);
                    next.add(extended);
                }
            }
            lookups = next;
        }
        return lookups;
    }

    /**
     * A collection's query, for both backends' collections (whose library classes share no parent of ours): the
     * documents at a unique index's {@link #positions} matched against the whole filter, else those a non-unique
     * index gives, else the library's own query (a scan) where there are none.
     */
    static <P> QueryResult narrowedQuery(NonUniqueNarrowing.Narrowable<P> collection, Document query, Document orderBy,
                                         Function<Iterable<P>, QueryResult> matchAt,
                                         Function<List<Document>, QueryResult> matchAmong,
                                         Supplier<QueryResult> libraryQuery) {
        Iterable<P> positions = positions(collection, query);
        if (positions != null) {
            return matchAt.apply(positions);
        }
        if (query == null || query.isEmpty() || isNaturalOrder(orderBy)
            || collection.getIndexes().stream().anyMatch(index -> index.canHandle(query))) {
            return libraryQuery.get();
        }
        List<Document> candidates = NonUniqueNarrowing.candidates(collection, query);
        return candidates == null ? libraryQuery.get() : matchAmong.apply(candidates);
    }

    /** A {@code $natural} sort: the library reads the positions in its own order for it; left to the scan. */
    private static boolean isNaturalOrder(Document orderBy) {
        return orderBy != null && orderBy.containsKey("$natural");
    }

    /** Collection options are only known to the library; this opens the index a non-unique spec asks for. */
    private static <P> Index<P> nonUniqueIndex(String indexName, List<IndexKey> keys) {
        return new NonUniqueIndex<>(indexName, keys);
    }

    static final class NarrowingMemoryDatabase extends MemoryDatabase {
        NarrowingMemoryDatabase(String name, CursorRegistry cursorRegistry) {
            super(name, cursorRegistry);
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
            return new NarrowingMemoryCollection(this, collectionName, options, cursorRegistry);
        }

        @Override
        protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName,
                                                            List<IndexKey> keys, boolean sparse) {
            return nonUniqueIndex(indexName, keys);
        }
    }

    static final class NarrowingMemoryCollection extends MemoryCollection
        implements NonUniqueNarrowing.Narrowable<Integer> {
        NarrowingMemoryCollection(MongoDatabase database, String name, CollectionOptions options,
                                  CursorRegistry cursorRegistry) {
            super(database, name, options, cursorRegistry);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                             int batchSize, Document fieldSelector) {
            return narrowedQuery(this, query, orderBy,
                positions -> matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize,
                    fieldSelector),
                documents -> matchDocumentsFromStream(documents.stream(), query, orderBy, numberToSkip,
                    numberToReturn, batchSize, fieldSelector),
                () -> super.queryDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector));
        }

        /** Synchronized as the library's other reads, which it is not: it reads the indexes too. */
        @Override
        public synchronized int count(Document query, int skip, int limit) {
            return super.count(query, skip, limit);
        }

        /**
         * The library keeps the collection's size (collStats, dbStats) up to date by encoding a document to BSON at
         * each insert and delete, and both the old and the new document at each update: two encodings of a whole
         * document per update, however little changed, and a third of the JVM's CPU in a chat turn whose update
         * names a growing analytics day. Nothing in the app asks for that size; it is added up here when asked.
         */
        @Override
        protected boolean tracksDataSize() {
            return false;
        }

        /** The sum of the documents' BSON sizes, the figure the library kept (int, wrapping as its counter did). */
        @Override
        protected synchronized int getDataSize() {
            int size = 0;
            for (Iterator<DocumentWithPosition<Integer>> it = streamAllDocumentsWithPosition().iterator(); it.hasNext(); ) {
                size += bsonSize(it.next().getDocument());
            }
            return size;
        }

        /** As the library's own (package-private) Utils.calculateSize. */
        private static int bsonSize(Document document) {
            ByteBuf buffer = Unpooled.buffer();
            try {
                BsonEncoder.encodeDocument(document, buffer);
                return buffer.writerIndex();
            } catch (RuntimeException e) {
                throw new MongoServerException("Failed to calculate document size", e);
            } finally {
                buffer.release();
            }
        }

        @Override
        public synchronized void removeDocument(Document document) {
            Integer position = NonUniqueNarrowing.positionOf(this, document);
            super.removeDocument(document);
            NonUniqueNarrowing.removed(this, document, position);
        }

        @Override
        public Stream<DocumentWithPosition<Integer>> documentsWithPositions() {
            return streamAllDocumentsWithPosition();
        }

        @Override
        public Document documentAt(Integer position) {
            return getDocument(position);
        }

        @Override
        public Comparator<Integer> positionOrder() {
            return Comparator.naturalOrder();
        }
    }

    /** Opens the databases of one MVStore; an inner class, so the store is there while H2Database's constructor opens the collections. */
    static final class H2Databases {
        private final MVStore store;
        /** The collections opened while a database opens, to build their indexes then. */
        private List<NarrowingH2Collection> opening;

        H2Databases(MVStore store) {
            this.store = store;
        }

        /**
         * Opens the database, and builds the non-unique indexes of its collections from their documents (they are
         * not on file) now, before any command, so that no early command waits for it.
         */
        MongoDatabase open(String name, CursorRegistry cursorRegistry) {
            opening = new ArrayList<>();
            MongoDatabase database = new NarrowingH2Database(name, cursorRegistry);
            opening.forEach(NonUniqueNarrowing::build);
            opening = null;
            return database;
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
                NarrowingH2Collection collection =
                    new NarrowingH2Collection(this, collectionName, options, dataMap, metaMap, cursorRegistry);
                if (opening != null) {
                    opening.add(collection);
                }
                return collection;
            }

            @Override
            protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName,
                                                               List<IndexKey> keys, boolean sparse) {
                return nonUniqueIndex(indexName, keys);
            }
        }
    }

    static final class NarrowingH2Collection extends H2Collection implements NonUniqueNarrowing.Narrowable<Object> {
        private final Comparator<Object> positionOrder;

        NarrowingH2Collection(MongoDatabase database, String name, CollectionOptions options,
                              MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap,
                              CursorRegistry cursorRegistry) {
            super(database, name, options, dataMap, metaMap, cursorRegistry);
            // The document map's own order (a scan reads it in that order).
            this.positionOrder = dataMap.getKeyType()::compare;
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                             int batchSize, Document fieldSelector) {
            return narrowedQuery(this, query, orderBy,
                positions -> matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize,
                    fieldSelector),
                documents -> matchDocumentsFromStream(documents.stream(), query, orderBy, numberToSkip,
                    numberToReturn, batchSize, fieldSelector),
                () -> super.queryDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector));
        }

        /** Synchronized as the library's other reads, which it is not: it reads the indexes too. */
        @Override
        public synchronized int count(Document query, int skip, int limit) {
            return super.count(query, skip, limit);
        }

        @Override
        public synchronized void removeDocument(Document document) {
            Object position = NonUniqueNarrowing.positionOf(this, document);
            super.removeDocument(document);
            NonUniqueNarrowing.removed(this, document, position);
        }

        @Override
        public Stream<DocumentWithPosition<Object>> documentsWithPositions() {
            return streamAllDocumentsWithPosition();
        }

        @Override
        public Document documentAt(Object position) {
            return getDocument(position);
        }

        @Override
        public Comparator<Object> positionOrder() {
            return positionOrder;
        }
    }
}
