package bookcheck;

import com.adobe.epubcheck.xml.XMLValidator;
import com.thaiopensource.util.PropertyMap;
import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.Schema;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.Validator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xml.sax.Attributes;
import org.xml.sax.ContentHandler;
import org.xml.sax.DTDHandler;
import org.xml.sax.ErrorHandler;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.AttributesImpl;

/**
 * An EPUBCheck schema (RELAX NG, NVDL or Schematron) that remembers the documents it found clean,
 * for the life of the JVM: EPUBCheck's server (book.check.daemon) checks an author's book again
 * after every edit, and an edit changes one chapter of thirty.
 *
 * Why: in a warm server, the schemas' validation of the content documents is most of a check's
 * time (Jing's RELAX NG derivatives, Saxon's Schematron), and it is a pure function of the SAX
 * events the schema is given: EPUBCheck reports what a validator finds only through the error
 * handler in its property map. So a document whose events are those a schema already validated
 * at the same address without a single message gets no message from it again.
 *
 * How, so that the verdict stays EPUBCheck's to the message: the first time a schema meets an
 * address (or after it found something there), the events go straight to the real validator, as
 * without this class, and a SHA-256 of them is kept if the validator reported nothing. When the
 * address was clean before, the events are recorded with the locator's line and column, and at
 * the end of the document either their digest is the clean one (nothing to report, nothing
 * validated) or they are replayed in order to a real validator, which reports with the recorded
 * positions. Only EPUBCheck's server turns it on (-Dbook.remember=true, book.check.daemon): the
 * command line meets each address once, where it would only add the digest's cost.
 */
public final class RememberingValidator extends XMLValidator {
    private static final int REMEMBERED = 4096; // addresses per schema: a book has a few hundred documents
    // Where each document's path through this class is written, one line each, for the tests.
    private static final String LOG = System.getenv("BOOK_EPUBCHECK_REMEMBERED_LOG");
    private final Schema schema;

    public RememberingValidator(String path, boolean normative) {
        super(path, normative);
        Schema own = super.getSchema();
        // Only where a JVM checks the same book again (the server asks with -Dbook.remember=true):
        // the command line meets each document once, and digesting its events would be all cost.
        schema = own == null || !Boolean.getBoolean("book.remember") ? own : new Remembering(own);
    }

    @Override
    public Schema getSchema() {
        return schema;
    }

    private static final class Remembering implements Schema {
        private final Schema schema;
        private final Map<String, String> clean = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > REMEMBERED;
            }
        };

        Remembering(Schema schema) {
            this.schema = schema;
        }

        @Override
        public PropertyMap getProperties() {
            return schema.getProperties();
        }

        @Override
        public Validator createValidator(PropertyMap properties) {
            return new Watching(this, properties);
        }

        synchronized String cleanDigest(String address) {
            return clean.get(address);
        }

        synchronized void found(String address, String digest, boolean isClean) {
            if (isClean) {
                clean.put(address, digest);
            } else {
                clean.remove(address);
            }
        }
    }

    /** The error handler EPUBCheck gave, and whether the validator has called it. */
    private static final class Counting implements ErrorHandler {
        private final ErrorHandler to;
        boolean called;

        Counting(ErrorHandler to) {
            this.to = to;
        }

        @Override
        public void warning(SAXParseException e) throws SAXException {
            called = true;
            if (to != null) to.warning(e);
        }

        @Override
        public void error(SAXParseException e) throws SAXException {
            called = true;
            if (to != null) to.error(e);
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            called = true;
            if (to != null) to.fatalError(e);
        }
    }

    /** The locator a replayed event is seen from: the position recorded with it. */
    private static final class Replayed implements Locator {
        String publicId, systemId;
        int line = -1, column = -1;

        @Override
        public String getPublicId() {
            return publicId;
        }

        @Override
        public String getSystemId() {
            return systemId;
        }

        @Override
        public int getLineNumber() {
            return line;
        }

        @Override
        public int getColumnNumber() {
            return column;
        }
    }

    private static final int DOC_START = 0, DOC_END = 1, PREFIX_START = 2, PREFIX_END = 3, ELEMENT_START = 4,
            ELEMENT_END = 5, TEXT = 6, SPACE = 7, PI = 8, SKIPPED = 9, NOTATION = 10, UNPARSED = 11;

    private static final class Event {
        final int kind, line, column;
        final String a, b, c, d;
        final Attributes attributes;
        final char[] text;

        Event(int kind, int line, int column, String a, String b, String c, String d, Attributes attributes, char[] text) {
            this.kind = kind;
            this.line = line;
            this.column = column;
            this.a = a;
            this.b = b;
            this.c = c;
            this.d = d;
            this.attributes = attributes;
            this.text = text;
        }
    }

    /** The events' digest, fed as they come: kinds, and strings with their lengths (UTF-16). */
    private static final class Digest {
        private final MessageDigest md;
        private final byte[] buf = new byte[8192];
        private int n;

        Digest() {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void number(int v) {
            if (n + 4 > buf.length) flush();
            buf[n++] = (byte) (v >>> 24);
            buf[n++] = (byte) (v >>> 16);
            buf[n++] = (byte) (v >>> 8);
            buf[n++] = (byte) v;
        }

        void chars(char[] ch, int start, int length) {
            number(length);
            for (int i = start, end = start + length; i < end; i++) {
                if (n + 2 > buf.length) flush();
                char c = ch[i];
                buf[n++] = (byte) (c >>> 8);
                buf[n++] = (byte) c;
            }
        }

        void text(String s) {
            if (s == null) {
                number(-1);
                return;
            }
            int length = s.length();
            number(length);
            for (int i = 0; i < length; i++) {
                if (n + 2 > buf.length) flush();
                char c = s.charAt(i);
                buf[n++] = (byte) (c >>> 8);
                buf[n++] = (byte) c;
            }
        }

        private void flush() {
            md.update(buf, 0, n);
            n = 0;
        }

        String hex() {
            flush();
            StringBuilder out = new StringBuilder(64);
            for (byte b : md.digest()) {
                out.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
            }
            return out.toString();
        }
    }

    /**
     * One document's validator as EPUBCheck sees it: passes the events on (first visit) or records
     * them (an address clean before), and digests them either way.
     */
    private static final class Watching implements Validator, ContentHandler, DTDHandler {
        private final Remembering owner;
        private final PropertyMap properties;
        private Locator locator;
        private Counting counting;
        private Validator real;
        private ContentHandler content;
        private DTDHandler dtd;
        private Digest digest;
        private String address, known;
        private List<Event> recorded; // non-null while recording

        Watching(Remembering owner, PropertyMap properties) {
            this.owner = owner;
            this.properties = properties;
        }

        /**
         * A document's address without the host EPUBCheck makes up for each check
         * (https://UUID.epubcheck.w3c.org/EPUB/ch01.xhtml): its path in the container, so that one
         * book checked twice meets the same addresses.
         */
        private static String inContainer(String systemId) {
            if (systemId == null) return null;
            int host = systemId.startsWith("https://") ? "https://".length() : -1;
            int path = host < 0 ? -1 : systemId.indexOf('/', host);
            if (path < 0 || !systemId.substring(host, path).endsWith(".epubcheck.w3c.org")) return systemId;
            return systemId.substring(path);
        }

        private void open() {
            PropertyMapBuilder builder = new PropertyMapBuilder(properties);
            counting = new Counting(properties.get(ValidateProperty.ERROR_HANDLER));
            builder.put(ValidateProperty.ERROR_HANDLER, counting);
            real = owner.schema.createValidator(builder.toPropertyMap());
            content = real.getContentHandler();
            dtd = real.getDTDHandler();
        }

        @Override
        public ContentHandler getContentHandler() {
            return this;
        }

        @Override
        public DTDHandler getDTDHandler() {
            return this;
        }

        @Override
        public void reset() {
            if (real != null) real.reset();
            real = null;
            content = null;
            dtd = null;
            recorded = null;
            digest = null;
            known = null;
        }

        private int line() {
            return locator == null ? -1 : locator.getLineNumber();
        }

        private int column() {
            return locator == null ? -1 : locator.getColumnNumber();
        }

        private void record(int kind, String a, String b, String c, String d, Attributes atts, char[] text) {
            recorded.add(new Event(kind, line(), column(), a, b, c, d, atts, text));
        }

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public void startDocument() throws SAXException {
            digest = new Digest();
            address = locator == null ? null : inContainer(locator.getSystemId());
            known = address == null ? null : owner.cleanDigest(address);
            digest.text(address);
            digest.number(DOC_START);
            if (known != null) {
                recorded = new ArrayList<>();
                record(DOC_START, null, null, null, null, null, null);
            } else {
                open();
                if (locator != null) content.setDocumentLocator(locator);
                content.startDocument();
            }
        }

        @Override
        public void endDocument() throws SAXException {
            digest.number(DOC_END);
            String got = digest.hex();
            if (recorded != null) {
                if (got.equals(known)) {
                    recorded = null;
                    log("remembered", address);
                    return; // the events the schema already found nothing in, at this address
                }
                record(DOC_END, null, null, null, null, null, null);
                replay();
                log("replayed", address);
            } else {
                content.endDocument();
                log("validated", address);
            }
            owner.found(address, got, !counting.called);
        }

        private static void log(String what, String address) {
            if (LOG == null) return;
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of(LOG), what + " " + address + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (java.io.IOException e) {
                // a test's log, never the verdict
            }
        }

        private void replay() throws SAXException {
            List<Event> events = recorded;
            recorded = null;
            open();
            Replayed at = new Replayed();
            if (locator != null) {
                at.publicId = locator.getPublicId();
                at.systemId = locator.getSystemId();
            }
            content.setDocumentLocator(at);
            for (Event e : events) {
                at.line = e.line;
                at.column = e.column;
                switch (e.kind) {
                    case DOC_START -> content.startDocument();
                    case DOC_END -> content.endDocument();
                    case PREFIX_START -> content.startPrefixMapping(e.a, e.b);
                    case PREFIX_END -> content.endPrefixMapping(e.a);
                    case ELEMENT_START -> content.startElement(e.a, e.b, e.c, e.attributes);
                    case ELEMENT_END -> content.endElement(e.a, e.b, e.c);
                    case TEXT -> content.characters(e.text, 0, e.text.length);
                    case SPACE -> content.ignorableWhitespace(e.text, 0, e.text.length);
                    case PI -> content.processingInstruction(e.a, e.b);
                    case SKIPPED -> content.skippedEntity(e.a);
                    case NOTATION -> dtd.notationDecl(e.a, e.b, e.c);
                    case UNPARSED -> dtd.unparsedEntityDecl(e.a, e.b, e.c, e.d);
                    default -> throw new IllegalStateException("event " + e.kind);
                }
            }
        }

        @Override
        public void startPrefixMapping(String prefix, String uri) throws SAXException {
            digest.number(PREFIX_START);
            digest.text(prefix);
            digest.text(uri);
            if (recorded != null) record(PREFIX_START, prefix, uri, null, null, null, null);
            else content.startPrefixMapping(prefix, uri);
        }

        @Override
        public void endPrefixMapping(String prefix) throws SAXException {
            digest.number(PREFIX_END);
            digest.text(prefix);
            if (recorded != null) record(PREFIX_END, prefix, null, null, null, null, null);
            else content.endPrefixMapping(prefix);
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes atts) throws SAXException {
            digest.number(ELEMENT_START);
            digest.text(uri);
            digest.text(localName);
            digest.text(qName);
            int count = atts == null ? 0 : atts.getLength();
            digest.number(count);
            for (int i = 0; i < count; i++) {
                digest.text(atts.getURI(i));
                digest.text(atts.getLocalName(i));
                digest.text(atts.getQName(i));
                digest.text(atts.getType(i));
                digest.text(atts.getValue(i));
            }
            if (recorded != null) {
                record(ELEMENT_START, uri, localName, qName, null, atts == null ? new AttributesImpl() : new AttributesImpl(atts), null);
            } else {
                content.startElement(uri, localName, qName, atts);
            }
        }

        @Override
        public void endElement(String uri, String localName, String qName) throws SAXException {
            digest.number(ELEMENT_END);
            digest.text(uri);
            digest.text(localName);
            digest.text(qName);
            if (recorded != null) record(ELEMENT_END, uri, localName, qName, null, null, null);
            else content.endElement(uri, localName, qName);
        }

        @Override
        public void characters(char[] ch, int start, int length) throws SAXException {
            digest.number(TEXT);
            digest.chars(ch, start, length);
            if (recorded != null) record(TEXT, null, null, null, null, null, Arrays.copyOfRange(ch, start, start + length));
            else content.characters(ch, start, length);
        }

        @Override
        public void ignorableWhitespace(char[] ch, int start, int length) throws SAXException {
            digest.number(SPACE);
            digest.chars(ch, start, length);
            if (recorded != null) record(SPACE, null, null, null, null, null, Arrays.copyOfRange(ch, start, start + length));
            else content.ignorableWhitespace(ch, start, length);
        }

        @Override
        public void processingInstruction(String target, String data) throws SAXException {
            digest.number(PI);
            digest.text(target);
            digest.text(data);
            if (recorded != null) record(PI, target, data, null, null, null, null);
            else content.processingInstruction(target, data);
        }

        @Override
        public void skippedEntity(String name) throws SAXException {
            digest.number(SKIPPED);
            digest.text(name);
            if (recorded != null) record(SKIPPED, name, null, null, null, null, null);
            else content.skippedEntity(name);
        }

        @Override
        public void notationDecl(String name, String publicId, String systemId) throws SAXException {
            digest.number(NOTATION); // SAX reports the DTD after startDocument
            digest.text(name);
            digest.text(publicId);
            digest.text(systemId);
            if (recorded != null) record(NOTATION, name, publicId, systemId, null, null, null);
            else dtd.notationDecl(name, publicId, systemId);
        }

        @Override
        public void unparsedEntityDecl(String name, String publicId, String systemId, String notationName)
                throws SAXException {
            digest.number(UNPARSED);
            digest.text(name);
            digest.text(publicId);
            digest.text(systemId);
            digest.text(notationName);
            if (recorded != null) record(UNPARSED, name, publicId, systemId, notationName, null, null);
            else dtd.unparsedEntityDecl(name, publicId, systemId, notationName);
        }
    }
}
