package dev.wisp.embeddeddb;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import de.bwaldvogel.mongo.backend.KeyValue;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the H2 backend's unique index maps, stored and ordered exactly as H2's default
 * ({@link ObjectDataType}): index keys ({@link KeyValue}) are not Comparable, so H2 orders them by
 * their Java serialization, serializing both sides at every step of a B-tree search. This type
 * serializes the searched key once per search, and keeps the serialized form of the keys of pages
 * in use (per page key array, checked against the very key object in each slot, so a slot that
 * changed is serialized anew); the order is unchanged.
 * <p>
 * On file, keys are written in {@link CompactObjectType}'s encoding ({@link CompactObjectType#KEY_VALUE_TAG}):
 * H2 wrote each with Java serialization whenever its page was written, at every commit that changed the page,
 * which was the larger part of the database's CPU on a file. A key read back is equal to the one written, its
 * values of the very same classes, so its serialization, and its place in the order, are the same too. Keys
 * written by H2 are still read; a key holding a value the encoding does not keep exactly is written as H2 did.
 */
final class IndexKeyType extends ObjectDataType {

    /** Keys' estimated heap size (what MVStore splits pages by), as {@link CompactObjectType} keeps documents'. */
    private volatile int averageSize = 400;

    @Override
    public int getMemory(Object obj) {
        return obj instanceof KeyValue ? averageSize : super.getMemory(obj);
    }

    @Override
    public void write(WriteBuffer buff, Object obj) {
        if (obj instanceof KeyValue key) {
            int start = buff.position();
            if (CompactObjectType.writeKeyValue(buff, key)) {
                averageSize = CompactObjectType.memoryEstimate(averageSize, buff.position() - start);
                return;
            }
        }
        super.write(buff, obj);
    }

    @Override
    public Object read(ByteBuffer buff) {
        if (buff.get(buff.position()) == CompactObjectType.KEY_VALUE_TAG) {
            buff.get();
            return CompactObjectType.readKeyValue(buff);
        }
        return super.read(buff);
    }

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
