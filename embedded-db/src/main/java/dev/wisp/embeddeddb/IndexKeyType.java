package dev.wisp.embeddeddb;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import de.bwaldvogel.mongo.backend.KeyValue;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the H2 backend's unique index maps, stored and ordered exactly as H2's default
 * ({@link ObjectDataType}): index keys ({@link KeyValue}) are not Comparable, so H2 orders them by
 * their Java serialization, serializing both sides at every step of a B-tree search. This type
 * serializes the searched key once per search, and keeps the serialized form of the keys of pages
 * in use (per page key array, checked against the very key object in each slot, so a slot that
 * changed is serialized anew); the order, and so the files, are unchanged.
 */
final class IndexKeyType extends ObjectDataType {

    /** A key object and its serialization. */
    private record Serialized(Object key, byte[] bytes) {
    }

    /** Per page key array (arrays hash by identity; weak, so gone with the page). */
    private final Map<Object[], Serialized[]> pages = Collections.synchronizedMap(new WeakHashMap<>());

    private byte[] serializedAt(Object[] keys, int index) {
        Serialized[] slots = pages.computeIfAbsent(keys, k -> new Serialized[k.length]);
        Object key = keys[index];
        Serialized slot = index < slots.length ? slots[index] : null;
        if (slot != null && slot.key() == key) {
            return slot.bytes();
        }
        byte[] bytes = serialize(key);
        if (index < slots.length) {
            slots[index] = new Serialized(key, bytes);
        }
        return bytes;
    }

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
                compare = compareNotNull(searched, serializedAt(keys, x));
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
