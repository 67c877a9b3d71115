import com.thaiopensource.validate.SchemaReader;
import java.util.concurrent.ConcurrentHashMap;
import org.idpf.epubcheck.util.saxon.SaxonSchemaReaderFactory;

/**
 * EPUBCheck's Schematron reader factory, one reader per schema language for the JVM's life.
 *
 * Jing makes a new ISO Schematron reader for each schema it is given, and each compiles Jing's
 * skeleton stylesheet (iso-schematron.xsl) and its RELAX NG schema for Schematron again: a third
 * of a first check's main-thread samples on a one-chapter EPUB. The reader keeps nothing of a
 * schema it read (each createSchema makes its own transformer factory and handlers, and shares
 * only the compiled skeleton, a thread-safe Templates), so one serves every schema.
 *
 * Listed first in META-INF/services of book.check.jars' schemas.jar, which is first on the class
 * path, so Jing's service loader asks this factory before EPUBCheck's own; for the languages it
 * does not read it answers as EPUBCheck's does (null), and the next factory is asked.
 */
public final class SchematronReaders extends SaxonSchemaReaderFactory {
    private static final ConcurrentHashMap<String, SchemaReader> READERS = new ConcurrentHashMap<>();

    @Override
    public SchemaReader createSchemaReader(String namespaceUri) {
        SchemaReader known = READERS.get(namespaceUri);
        if (known != null) {
            return known;
        }
        SchemaReader made = super.createSchemaReader(namespaceUri);
        if (made == null) {
            return null;
        }
        SchemaReader first = READERS.putIfAbsent(namespaceUri, made);
        return first != null ? first : made;
    }
}
