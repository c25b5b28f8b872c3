package dev.wisp.embeddeddb;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import de.bwaldvogel.mongo.backend.DocumentWithPosition;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.bson.Document;

/**
 * Looks a filter up in a collection's {@link NonUniqueIndex}es: the filter names an index's first keys with
 * plain values or {@code $in} lists of them, so only the documents under those values can match it. The whole filter is then matched
 * against those documents, taken in the order a scan reads them, so sort, skip, limit and projection (which the
 * library applies after matching) give what the scan gave.
 */
final class NonUniqueNarrowing {

    /** What the lookups need of a collection of either backend (the library's methods for it are protected). */
    interface Narrowable<P> {
        List<Index<P>> getIndexes();

        int count();

        Stream<DocumentWithPosition<P>> documentsWithPositions();

        /** Null when no document is there. */
        Document documentAt(P position);

        /** The order a scan reads the documents in. */
        Comparator<P> positionOrder();
    }

    private NonUniqueNarrowing() {
    }

    private static <P> List<NonUniqueIndex<P>> indexes(Narrowable<P> collection) {
        List<NonUniqueIndex<P>> indexes = new ArrayList<>();
        for (Index<P> index : collection.getIndexes()) {
            if (index instanceof NonUniqueIndex<P> nonUnique && nonUnique.isUsable()) {
                indexes.add(nonUnique);
            }
        }
        return indexes;
    }

    /**
     * Builds every index of the collection not built yet, reading the documents once for all of them, with the
     * collection's lock (the library's writes hold it) so no write falls between reading and using them.
     */
    static <P> void build(Narrowable<P> collection) {
        synchronized (collection) {
            List<NonUniqueIndex<P>> unbuilt = indexes(collection);
            unbuilt.removeIf(NonUniqueIndex::isBuilt);
            if (unbuilt.isEmpty()) {
                return;
            }
            long started = System.nanoTime();
            unbuilt.forEach(NonUniqueIndex::startBuild);
            long[] read = {0};
            try (Stream<DocumentWithPosition<P>> documents = collection.documentsWithPositions()) {
                documents.forEach(entry -> {
                    read[0]++;
                    for (NonUniqueIndex<P> index : unbuilt) {
                        index.insert(entry.getDocument(), entry.getPosition());
                    }
                });
            }
            unbuilt.forEach(NonUniqueIndex::finishBuild);
            if (Backends.TRACE) {
                System.err.println("wisp-embedded-db trace: built " + unbuilt + " of " + collection + " from "
                    + read[0] + " documents in " + (System.nanoTime() - started) / 1_000_000 + "ms");
            }
        }
    }

    /**
     * The documents that may match {@code filter}, in scan order, by the index whose range for it holds the
     * fewest; null when no index narrows it below the whole collection, or an index was out of step with
     * the documents (then emptied, to be built again).
     */
    static <P> List<Document> candidates(Narrowable<P> collection, Document filter) {
        NonUniqueIndex<P> best = null;
        List<Object[]> bestPrefixes = null;
        long bound = collection.count();
        boolean built = false;
        for (NonUniqueIndex<P> index : indexes(collection)) {
            List<Object[]> prefixes = index.prefixes(filter);
            if (prefixes == null) {
                continue;
            }
            if (!built) {
                build(collection);
                built = true;
            }
            long count = index.count(prefixes, bound);
            if (count < bound) {
                best = index;
                bestPrefixes = prefixes;
                bound = count;
            }
        }
        if (best == null) {
            return null;
        }
        List<P> positions = inScanOrder(collection, best.positions(bestPrefixes));
        if (positions == null) {
            return null;
        }
        List<Document> documents = new ArrayList<>(positions.size());
        for (P position : positions) {
            Document document = collection.documentAt(position);
            if (document == null) {
                indexes(collection).forEach(NonUniqueIndex::invalidate);
                return null;
            }
            documents.add(document);
        }
        return documents;
    }

    /**
     * The positions in the order a scan reads them, each once (a document may be under several of the values
     * looked up); null when one is null (an H2 document whose _id is null), which has no place in that order.
     */
    static <P> List<P> inScanOrder(Narrowable<P> collection, List<P> positions) {
        if (positions.contains(null)) {
            return null;
        }
        Comparator<P> order = collection.positionOrder();
        positions.sort(order);
        List<P> distinct = new ArrayList<>(positions.size());
        for (P position : positions) {
            if (distinct.isEmpty() || order.compare(distinct.get(distinct.size() - 1), position) != 0) {
                distinct.add(position);
            }
        }
        return distinct;
    }

    /** The document's position, from a unique index (every collection has the one on _id), before it is removed. */
    static <P> P positionOf(Narrowable<P> collection, Document document) {
        if (indexes(collection).stream().noneMatch(NonUniqueIndex::isBuilt)) {
            return null;
        }
        for (Index<P> index : collection.getIndexes()) {
            if (index.isUnique()) {
                P position = index.getPosition(document);
                if (position != null) {
                    return position;
                }
            }
        }
        return null;
    }

    /** After the collection removed the document that was at {@code position}. */
    static <P> void removed(Narrowable<P> collection, Document document, P position) {
        for (NonUniqueIndex<P> index : indexes(collection)) {
            index.removed(document, position);
        }
    }
}
