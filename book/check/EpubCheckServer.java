// EPUBCheck kept warm: requests on a Unix socket → EPUBCheck's own command line run in this JVM.
//
// Started by book.check.daemon (compiled there into the user's cache), one per Java runtime and
// EPUBCheck jar. A request is one line, "<report.json>\t<book.epub>\n"; the answer is one line, the
// exit code of `epubcheck --json <report.json> <book.epub>` run by EPUBCheck's own EpubChecker, so
// the report is the command line's. One check at a time: the next client waits in the backlog.
// After `idle` seconds without a request the server removes its socket and exits.
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class EpubCheckServer {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        long idleMillis = Long.parseLong(args[1]) * 1000L;
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket)); // fails when another server holds the name
        server.configureBlocking(false);
        Selector selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        boolean healthy = true;
        try {
            while (healthy && selector.select(idleMillis) > 0) {
                selector.selectedKeys().clear();
                SocketChannel client = server.accept();
                if (client == null) {
                    continue;
                }
                client.configureBlocking(true);
                try (client) {
                    healthy = serve(client);
                } catch (Exception e) {
                    // a client gone away: the next one is served as usual
                }
                System.gc(); // the check's garbage collected, so the idle heap shrinks back
            }
        } finally {
            // The name first: a client that finds no socket starts a new server, which this one's
            // exit must not unlink.
            Files.deleteIfExists(socket);
            server.close();
        }
    }

    /** One request; false when the JVM should not be trusted with another (an Error in the check). */
    private static boolean serve(SocketChannel client) throws Exception {
        BufferedReader in = new BufferedReader(
                new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        String line = in.readLine();
        if (line == null) {
            return true;
        }
        String[] request = line.split("\t", 2);
        String answer;
        boolean healthy = true;
        try {
            answer = Integer.toString(new EpubChecker().run(new String[] {"--json", request[0], request[1]}));
        } catch (Throwable t) { // StackOverflowError in Jing, OutOfMemoryError: no verdict
            answer = "failed";
            healthy = false;
        }
        OutputStream out = Channels.newOutputStream(client);
        out.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return healthy;
    }
}
