package dev.wisp.embeddeddb;

import de.bwaldvogel.mongo.backend.KeyValue;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the H2 backend's unique index maps, stored and ordered exactly as H2's default
 * ({@link ObjectDataType}): index keys ({@link KeyValue}) are not Comparable, so H2 orders them by
 * their Java serialization, serializing both sides at every step of a B-tree search. This type
 * serializes the searched key once per search instead; the order, and so the files, are unchanged.
 */
final class IndexKeyType extends ObjectDataType {

    @Override
    public int binarySearch(Object key, Object storage, int size, int initialGuess) {
        if (!(key instanceof KeyValue)) {
            return super.binarySearch(key, storage, size, initialGuess);
        }
        Object[] keys = (Object[]) storage;
        byte[] searched = null;
        int low = 0;
        int high = size - 1;
        int x = initialGuess - 1;
        if (x < 0 || x > high) {
            x = high >>> 1;
        }
        while (low <= high) {
            Object other = keys[x];
            int compare;
            if (other == key) {
                compare = 0;
            } else if (other instanceof KeyValue) {
                // As ObjectDataType orders two objects of a type it does not know and that are not Comparable.
                if (searched == null) {
                    searched = serialize(key);
                }
                compare = compareNotNull(searched, serialize(other));
            } else {
                compare = compare(key, other);
            }
            if (compare > 0) {
                low = x + 1;
            } else if (compare < 0) {
                high = x - 1;
            } else {
                return x;
            }
            x = (low + high) >>> 1;
        }
        return -(low + 1);
    }
}
