package dev.wisp.embeddeddb;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.LegacyUUID;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The type of the H2 backend's documents and of their ids where those are ObjectIds (the keys of the document
 * maps, the values of the unique index maps). H2's default ({@link ObjectDataType}) stores both with Java
 * serialization, and MVStore writes whole pages of them at each commit: that was the largest part of the
 * database's CPU per chat turn. This type writes them in a compact encoding of its own behind tag bytes H2
 * never writes ({@link #DOCUMENT_TAG}, {@link #OBJECT_ID_TAG}); anything else, and any document holding a
 * value it does not encode exactly (its very class, every bit), is written as H2 writes it. Both are read,
 * so files written before open unchanged; a launcher without this type cannot read what it writes.
 * Ordering is H2's own (ObjectIds by compareTo), so the maps' order on file is unchanged.
 */
final class CompactObjectType extends ObjectDataType {

    /** Not tags of ObjectDataType (0-19, 32-49, 64-119). */
    static final byte DOCUMENT_TAG = (byte) 0xD7;
    static final byte OBJECT_ID_TAG = (byte) 0xD8;
    /** A unique index's key ({@link KeyValue}), written by {@link IndexKeyType}. */
    static final byte KEY_VALUE_TAG = (byte) 0xD9;

    private static final int OBJECT_ID_LENGTH = 12;

    /** About an ObjectId's heap size (H2's estimate for Java-serialized objects is far above it). */
    private static final int OBJECT_ID_MEMORY = 48;

    private static final int NULL = 0;
    private static final int FALSE = 1;
    private static final int TRUE = 2;
    private static final int INT32 = 3;
    private static final int INT64 = 4;
    private static final int DOUBLE = 5;
    private static final int STRING = 6;
    private static final int DOCUMENT = 7;
    private static final int LIST = 8;
    private static final int OBJECT_ID = 9;
    private static final int INSTANT = 10;
    private static final int BYTES = 11;
    private static final int BIN_DATA = 12;
    private static final int UUID_VALUE = 13;
    private static final int LEGACY_UUID = 14;
    private static final int DECIMAL128 = 15;
    private static final int TIMESTAMP = 16;
    private static final int MIN_KEY = 17;
    private static final int MAX_KEY = 18;

    /** A value this encoding does not keep exactly: the document is written as H2 writes it. */
    private static final class NotEncoded extends RuntimeException {
        NotEncoded() {
            super(null, null, false, false);
        }
    }

    private static final NotEncoded NOT_ENCODED = new NotEncoded();

    /**
     * Documents' estimated heap size (what MVStore splits pages by): as H2's estimate for serialized objects, a
     * multiple of the recently written size, starting high; four times, as this encoding is about half as long.
     */
    private volatile int averageSize = 10_000;

    /**
     * The next running estimate of an object's heap size, after one of `written` bytes: four times the encoded
     * size (this encoding is about half as long as H2's Java serialization, whose estimate is twice its length).
     */
    static int memoryEstimate(int average, int written) {
        return (int) ((written * 4L + average * 15L) / 16);
    }

    @Override
    public int getMemory(Object obj) {
        if (obj instanceof Document) {
            return averageSize;
        }
        return obj != null && obj.getClass() == ObjectId.class ? OBJECT_ID_MEMORY : super.getMemory(obj);
    }

    @Override
    public void write(WriteBuffer buff, Object obj) {
        if (obj instanceof Document document) {
            int start = buff.position();
            try {
                buff.put(DOCUMENT_TAG);
                writeDocument(buff, document);
                averageSize = memoryEstimate(averageSize, buff.position() - start);
                return;
            } catch (NotEncoded e) {
                buff.position(start);
            }
        } else if (obj != null && obj.getClass() == ObjectId.class) {
            byte[] bytes = ((ObjectId) obj).toByteArray();
            if (bytes.length == OBJECT_ID_LENGTH) {
                buff.put(OBJECT_ID_TAG).put(bytes);
                return;
            }
        }
        super.write(buff, obj);
    }

    @Override
    public Object read(ByteBuffer buff) {
        byte tag = buff.get(buff.position());
        if (tag == DOCUMENT_TAG) {
            buff.get();
            return readDocument(buff);
        }
        if (tag == OBJECT_ID_TAG) {
            buff.get();
            byte[] bytes = new byte[OBJECT_ID_LENGTH];
            buff.get(bytes);
            return new ObjectId(bytes);
        }
        return super.read(buff);
    }

    /**
     * Writes `key` behind {@link #KEY_VALUE_TAG} and returns true, or writes nothing and returns false when a
     * value of it is not one this encoding keeps exactly.
     */
    static boolean writeKeyValue(WriteBuffer buff, KeyValue key) {
        int start = buff.position();
        try {
            buff.put(KEY_VALUE_TAG).putVarInt(key.size());
            for (Object value : key) {
                writeValue(buff, value);
            }
            return true;
        } catch (NotEncoded e) {
            buff.position(start);
            return false;
        }
    }

    /** Reads a key written by {@link #writeKeyValue}, its tag already read. */
    static KeyValue readKeyValue(ByteBuffer buff) {
        int size = DataUtils.readVarInt(buff);
        List<Object> values = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            values.add(readValue(buff));
        }
        return new KeyValue(values);
    }

    private static void writeDocument(WriteBuffer buff, Document document) {
        buff.putVarInt(document.size());
        for (Map.Entry<String, Object> entry : document.entrySet()) {
            writeString(buff, entry.getKey());
            writeValue(buff, entry.getValue());
        }
    }

    private static void writeString(WriteBuffer buff, String value) {
        // H2's string data keeps every char, unpaired surrogates too (UTF-8 would not).
        int length = value.length();
        buff.putVarInt(length).putStringData(value, length);
    }

    private static void writeValue(WriteBuffer buff, Object value) {
        if (value == null) {
            buff.put((byte) NULL);
            return;
        }
        Class<?> type = value.getClass();
        if (type == String.class) {
            buff.put((byte) STRING);
            writeString(buff, (String) value);
        } else if (type == Document.class) {
            buff.put((byte) DOCUMENT);
            writeDocument(buff, (Document) value);
        } else if (type == Integer.class) {
            buff.put((byte) INT32).putInt((Integer) value);
        } else if (type == Long.class) {
            buff.put((byte) INT64).putLong((Long) value);
        } else if (type == Double.class) {
            buff.put((byte) DOUBLE).putLong(Double.doubleToRawLongBits((Double) value));
        } else if (type == Boolean.class) {
            buff.put((byte) ((Boolean) value ? TRUE : FALSE));
        } else if (type == ArrayList.class) {
            List<?> list = (List<?>) value;
            buff.put((byte) LIST).putVarInt(list.size());
            for (Object item : list) {
                writeValue(buff, item);
            }
        } else if (type == ObjectId.class) {
            byte[] bytes = ((ObjectId) value).toByteArray();
            buff.put((byte) OBJECT_ID).putVarInt(bytes.length).put(bytes);
        } else if (type == Instant.class) {
            Instant instant = (Instant) value;
            buff.put((byte) INSTANT).putLong(instant.getEpochSecond()).putInt(instant.getNano());
        } else if (type == byte[].class) {
            byte[] bytes = (byte[]) value;
            buff.put((byte) BYTES).putVarInt(bytes.length).put(bytes);
        } else if (type == BinData.class) {
            byte[] bytes = ((BinData) value).getData();
            buff.put((byte) BIN_DATA).putVarInt(bytes.length).put(bytes);
        } else if (type == UUID.class) {
            UUID uuid = (UUID) value;
            buff.put((byte) UUID_VALUE).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        } else if (type == LegacyUUID.class) {
            UUID uuid = ((LegacyUUID) value).getUuid();
            buff.put((byte) LEGACY_UUID).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        } else if (type == Decimal128.class) {
            Decimal128 decimal = (Decimal128) value;
            buff.put((byte) DECIMAL128).putLong(decimal.getHigh()).putLong(decimal.getLow());
        } else if (type == BsonTimestamp.class) {
            buff.put((byte) TIMESTAMP).putLong(((BsonTimestamp) value).getValue());
        } else if (type == MinKey.class) {
            buff.put((byte) MIN_KEY);
        } else if (type == MaxKey.class) {
            buff.put((byte) MAX_KEY);
        } else {
            throw NOT_ENCODED;
        }
    }

    private static Document readDocument(ByteBuffer buff) {
        int size = DataUtils.readVarInt(buff);
        Document document = new Document();
        for (int i = 0; i < size; i++) {
            String key = DataUtils.readString(buff);
            document.put(key, readValue(buff));
        }
        return document;
    }

    private static Object readValue(ByteBuffer buff) {
        int type = buff.get();
        return switch (type) {
            case NULL -> null;
            case FALSE -> Boolean.FALSE;
            case TRUE -> Boolean.TRUE;
            case INT32 -> buff.getInt();
            case INT64 -> buff.getLong();
            case DOUBLE -> Double.longBitsToDouble(buff.getLong());
            case STRING -> DataUtils.readString(buff);
            case DOCUMENT -> readDocument(buff);
            case LIST -> {
                int size = DataUtils.readVarInt(buff);
                List<Object> list = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    list.add(readValue(buff));
                }
                yield list;
            }
            case OBJECT_ID -> new ObjectId(readBytes(buff));
            case INSTANT -> Instant.ofEpochSecond(buff.getLong(), buff.getInt());
            case BYTES -> readBytes(buff);
            case BIN_DATA -> new BinData(readBytes(buff));
            case UUID_VALUE -> new UUID(buff.getLong(), buff.getLong());
            case LEGACY_UUID -> new LegacyUUID(buff.getLong(), buff.getLong());
            case DECIMAL128 -> {
                long high = buff.getLong();
                yield new Decimal128(buff.getLong(), high);
            }
            case TIMESTAMP -> new BsonTimestamp(buff.getLong());
            case MIN_KEY -> MinKey.getInstance();
            case MAX_KEY -> MaxKey.getInstance();
            default -> throw new IllegalStateException("Unknown document value type " + type);
        };
    }

    private static byte[] readBytes(ByteBuffer buff) {
        byte[] bytes = new byte[DataUtils.readVarInt(buff)];
        buff.get(bytes);
        return bytes;
    }
}
