package dev.wisp.embeddeddb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A non-unique index (the library ignores those: every filter on them scanned the collection), kept in the
 * JVM's memory only: the positions of the documents under the {@link IndexValues} of their keys, ordered, so
 * the documents whose first keys have given values are one range. Nothing is written to an H2 file, whose
 * format is unchanged; it is built from the documents when an H2 file opens, else when first needed
 * ({@link NonUniqueNarrowing#build}).
 * <p>
 * It sits in the collection's index list where the library put its EmptyIndex, so listIndexes and unique
 * checks are unchanged, and the library keeps it up to date: {@link #add} on insert, {@link #updateInPlace} on
 * update. Removal comes from the collection ({@link #removed}), as the library's remove passes no position.
 * Whenever it finds itself out of step with the documents, it empties itself and is built again.
 */
final class NonUniqueIndex<P> extends Index<P> {

    /** Positions filed under one tuple: one position alone, or a set of them. */
    private static final class Bucket extends HashSet<Object> {
    }

    private final List<String> keyNames;
    private final String[][] paths;
    private final NavigableMap<Object[], Object> entries = new TreeMap<>(IndexValues.TUPLE_ORDER);
    /** Documents that are candidates of every lookup (see {@link IndexValues#tuples}). */
    private final Set<P> everywhere = new HashSet<>();
    private long documents;
    private boolean built;

    NonUniqueIndex(String name, List<IndexKey> keys) {
        // Sparse as the library's EmptyIndex, so an index spec given again compares as before.
        super(name, keys, true);
        this.keyNames = keys();
        this.paths = IndexValues.paths(keyNames);
    }

    /** The prefixes of the filter's conditions on this index's first keys (see {@link IndexValues#prefixes}). */
    List<Object[]> prefixes(Document filter) {
        return paths == null ? null : IndexValues.prefixes(filter, keyNames);
    }

    /** False for keys that are not plain dotted paths: then this index is never used, as before. */
    boolean isUsable() {
        return paths != null;
    }

    synchronized boolean isBuilt() {
        return built;
    }

    /** Starts a build: the collection then {@link #insert}s each document and calls {@link #finishBuild}. */
    synchronized void startBuild() {
        clear();
    }

    synchronized void finishBuild() {
        built = true;
    }

    private void clear() {
        entries.clear();
        everywhere.clear();
        documents = 0;
        built = false;
    }

    synchronized void insert(Document document, P position) {
        List<Object[]> tuples = IndexValues.tuples(document, paths);
        // A null position (an H2 document whose _id is null) is not kept as a map value; lookups then scan.
        if (tuples == null || position == null) {
            everywhere.add(position);
        } else if (tuples.isEmpty()) {
            return;
        } else {
            for (Object[] tuple : tuples) {
                Object bucket = entries.get(tuple);
                if (bucket == null) {
                    entries.put(tuple, position);
                } else if (bucket instanceof Bucket positions) {
                    positions.add(position);
                } else if (!bucket.equals(position)) {
                    Bucket positions = new Bucket();
                    positions.add(bucket);
                    positions.add(position);
                    entries.put(tuple, positions);
                }
            }
        }
        documents++;
    }

    /** Takes the document out; if it is not where it should be, the index empties itself to be built again. */
    private void delete(Document document, P position) {
        List<Object[]> tuples = IndexValues.tuples(document, paths);
        boolean found = true;
        if (tuples == null || position == null) {
            found = everywhere.remove(position);
        } else if (tuples.isEmpty()) {
            return;
        } else {
            for (Object[] tuple : tuples) {
                Object bucket = entries.get(tuple);
                if (bucket instanceof Bucket positions) {
                    found &= positions.remove(position);
                    if (positions.size() == 1) {
                        entries.put(tuple, positions.iterator().next());
                    }
                } else if (bucket != null && bucket.equals(position)) {
                    entries.remove(tuple);
                } else {
                    found = false;
                }
            }
        }
        documents--;
        if (!found) {
            clear();
        }
    }

    /** After the collection removed the document at {@code position} (null: unknown). */
    synchronized void removed(Document document, P position) {
        if (!built) {
            return;
        }
        if (position == null) {
            clear();
        } else {
            delete(document, position);
        }
    }

    /** Empties the index, to be built again from the documents when next needed. */
    synchronized void invalidate() {
        clear();
    }

    /** How many positions the ranges of {@code prefixes} hold, counting no further than {@code bound}. */
    synchronized long count(List<Object[]> prefixes, long bound) {
        long count = everywhere.size();
        for (Object[] prefix : prefixes) {
            for (Object bucket : range(prefix).values()) {
                count += bucket instanceof Bucket positions ? positions.size() : 1;
                if (count >= bound) {
                    return bound;
                }
            }
        }
        return count;
    }

    /** The positions of the ranges of {@code prefixes}, in no particular order, some more than once. */
    @SuppressWarnings("unchecked")
    synchronized List<P> positions(List<Object[]> prefixes) {
        List<P> positions = new ArrayList<>(everywhere);
        for (Object[] prefix : prefixes) {
            for (Object bucket : range(prefix).values()) {
                if (bucket instanceof Bucket many) {
                    for (Object position : many) {
                        positions.add((P) position);
                    }
                } else {
                    positions.add((P) bucket);
                }
            }
        }
        return positions;
    }

    private Map<Object[], Object> range(Object[] prefix) {
        Object[] end = Arrays.copyOf(prefix, prefix.length + 1);
        end[prefix.length] = IndexValues.MAX;
        return entries.subMap(prefix, true, end, false);
    }

    @Override
    public synchronized void add(Document document, P position, MongoCollection<P> collection) {
        if (built) {
            insert(document, position);
        }
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, P position,
                                           MongoCollection<P> collection) {
        if (built && !sameTuples(oldDocument, newDocument)) {
            delete(oldDocument, position);
            if (built) {
                insert(newDocument, position);
            }
        }
    }

    private boolean sameTuples(Document oldDocument, Document newDocument) {
        List<Object[]> before = IndexValues.tuples(oldDocument, paths);
        List<Object[]> after = IndexValues.tuples(newDocument, paths);
        if (before == null || after == null || before.size() != after.size()) {
            return before == after;
        }
        for (int i = 0; i < before.size(); i++) {
            if (IndexValues.TUPLE_ORDER.compare(before.get(i), after.get(i)) != 0) {
                return false;
            }
        }
        return true;
    }

    /** None: removal is by {@link #removed}; with {@link #isSparse} the library then goes on. */
    @Override
    public P remove(Document document) {
        return null;
    }

    @Override
    protected boolean isSparse() {
        return true;
    }

    /** Not empty to the library, which would otherwise build it by reading the whole collection twice. */
    @Override
    public boolean isEmpty() {
        return false;
    }

    @Override
    public synchronized long getCount() {
        return documents;
    }

    /** Null, as the library's EmptyIndex: positions come from the unique indexes. */
    @Override
    public P getPosition(Document document) {
        return null;
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        // any document may be added
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        // any update is allowed
    }

    /** Lookups go through {@link IndexNarrowing}, which also chooses between indexes. */
    @Override
    public boolean canHandle(Document query) {
        return false;
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long getDataSize() {
        return 0;
    }

    @Override
    public synchronized void drop() {
        clear();
    }
}
