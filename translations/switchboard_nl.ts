<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl_NL">
<context>
    <name>ConsoleApp</name>
    <message>
        <source>Watch a remote server instead of hosting one: its base URL, http[s]://host:port (with --api-key).</source>
        <translation>Een externe server bekijken in plaats van er zelf een te hosten: de basis-URL, http[s]://host:port (met --api-key).</translation>
    </message>
    <message>
        <source>Run the hosted server with no window and no display.</source>
        <translation>De gehoste server zonder venster en zonder beeldscherm draaien.</translation>
    </message>
    <message>
        <source>Language of the console: en, de or nl (default: the system&apos;s).</source>
        <translation>Taal van de console: en, de of nl (standaard: die van het systeem).</translation>
    </message>
</context>
<context>
    <name>JsonText</name>
    <message>
        <source>no JSON value</source>
        <translation>geen JSON-waarde</translation>
    </message>
    <message>
        <source>more than one value (wrap them in [ ] or { })</source>
        <translation>meer dan één waarde (omsluit ze met [ ] of { })</translation>
    </message>
</context>
<context>
    <name>sb::ui::BroadcastPanel</name>
    <message>
        <source>Send</source>
        <translation>Verzenden</translation>
    </message>
    <message>
        <source>All connections</source>
        <translation>Alle verbindingen</translation>
    </message>
    <message>
        <source>Room</source>
        <translation>Kamer</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Gebruiker</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Verbinding</translation>
    </message>
    <message>
        <source>A predefined event or any custom name (1 to 130 characters)</source>
        <translation>Een vooraf gedefinieerde gebeurtenis of een eigen naam (1 tot 130 tekens)</translation>
    </message>
    <message>
        <source>JSON data, e.g. {&quot;text&quot;: &quot;hello&quot;} (empty: null)</source>
        <translation>JSON-gegevens, bijv. {&quot;text&quot;: &quot;hallo&quot;} (leeg: null)</translation>
    </message>
    <message>
        <source>Double-click to send again</source>
        <translation>Dubbelklik om opnieuw te verzenden</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>Opnieuw verzenden</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Doel</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Naam</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Gebeurtenis</translation>
    </message>
    <message>
        <source>Data (JSON)</source>
        <translation>Gegevens (JSON)</translation>
    </message>
    <message>
        <source>Recent sends</source>
        <translation>Recent verzonden</translation>
    </message>
    <message>
        <source>every connection that joined a room</source>
        <translation>elke verbinding die een kamer is binnengegaan</translation>
    </message>
    <message>
        <source>room, e.g. hr:emp:1234</source>
        <translation>kamer, bijv. hr:emp:1234</translation>
    </message>
    <message>
        <source>user name, e.g. SCOTT</source>
        <translation>gebruikersnaam, bijv. SCOTT</translation>
    </message>
    <message>
        <source>connection id, e.g. c12</source>
        <translation>verbindings-id, bijv. c12</translation>
    </message>
    <message>
        <source>No data: the event carries null.</source>
        <translation>Geen gegevens: de gebeurtenis draagt null.</translation>
    </message>
    <message>
        <source>Valid JSON.</source>
        <translation>Geldige JSON.</translation>
    </message>
    <message>
        <source>Invalid JSON at line %1, column %2: %3</source>
        <translation>Ongeldige JSON op regel %1, kolom %2: %3</translation>
    </message>
    <message>
        <source>The event name is longer than 130 characters.</source>
        <translation>De naam van de gebeurtenis is langer dan 130 tekens.</translation>
    </message>
    <message>
        <source>Enter a %1 name.</source>
        <translation>Voer een naam in voor %1.</translation>
    </message>
    <message>
        <source>The server is not live.</source>
        <translation>De server is niet actief.</translation>
    </message>
    <message>
        <source>Sending...</source>
        <translation>Bezig met verzenden…</translation>
    </message>
    <message>
        <source>Not sent: %1</source>
        <translation>Niet verzonden: %1</translation>
    </message>
    <message numerus="yes">
        <source>Delivered to %n connection(s) (message id %1).</source>
        <translation>
            <numerusform>Afgeleverd bij %n verbinding (bericht-id %1).</numerusform>
            <numerusform>Afgeleverd bij %n verbindingen (bericht-id %1).</numerusform>
        </translation>
    </message>
    <message>
        <source>all</source>
        <translation>alle</translation>
    </message>
    <message>
        <source>room %1</source>
        <translation>kamer %1</translation>
    </message>
    <message>
        <source>user %1</source>
        <translation>gebruiker %1</translation>
    </message>
    <message>
        <source>connection %1</source>
        <translation>verbinding %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::ClientDialog</name>
    <message>
        <source>Events go to a &amp;handler</source>
        <translation>Gebeurtenissen gaan naar een &amp;handler</translation>
    </message>
    <message>
        <source>Messages are emitted to a &amp;room</source>
        <translation>Berichten worden naar een &amp;kamer gestuurd</translation>
    </message>
    <message>
        <source>Create outbound client</source>
        <translation>Uitgaande client aanmaken</translation>
    </message>
    <message>
        <source>ws://host:port/path or wss://...</source>
        <translation>ws://host:poort/pad of wss://…</translation>
    </message>
    <message>
        <source>a script under endpoints_dir or an http(s) URL</source>
        <translation>een script onder endpoints_dir of een http(s)-URL</translation>
    </message>
    <message>
        <source>&amp;Create</source>
        <translation>&amp;Aanmaken</translation>
    </message>
    <message>
        <source>&amp;URI:</source>
        <translation>&amp;URI:</translation>
    </message>
    <message>
        <source>Handler:</source>
        <translation>Handler:</translation>
    </message>
    <message>
        <source>Room:</source>
        <translation>Kamer:</translation>
    </message>
    <message>
        <source>Event:</source>
        <translation>Gebeurtenis:</translation>
    </message>
</context>
<context>
    <name>sb::ui::ClientsModel</name>
    <message>
        <source>Client</source>
        <translation>Client</translation>
    </message>
    <message>
        <source>URI</source>
        <translation>URI</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Doel</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>Sinds</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Ontvangen</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Verzonden</translation>
    </message>
    <message>
        <source>Reconnects</source>
        <translation>Herverbindingen</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fout</translation>
    </message>
    <message>
        <source>handler %1</source>
        <translation>handler %1</translation>
    </message>
    <message>
        <source>room %1, event %2</source>
        <translation>kamer %1, gebeurtenis %2</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>verbinden</translation>
    </message>
    <message>
        <source>open</source>
        <translation>open</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>gesloten</translation>
    </message>
</context>
<context>
    <name>sb::ui::ClientsPanel</name>
    <message>
        <source>Create...</source>
        <translation>Aanmaken…</translation>
    </message>
    <message>
        <source>Send...</source>
        <translation>Sturen…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Sluiten</translation>
    </message>
    <message>
        <source>Open a WebSocket client from this server to another one</source>
        <translation>Een WebSocket-client openen van deze server naar een andere</translation>
    </message>
    <message>
        <source>Close the selected client for good (it does not reconnect)</source>
        <translation>De gekozen client definitief sluiten (hij verbindt niet opnieuw)</translation>
    </message>
    <message>
        <source>No outbound clients.</source>
        <translation>Geen uitgaande clients.</translation>
    </message>
    <message numerus="yes">
        <source>%n client(s)</source>
        <translation>
            <numerusform>%n client</numerusform>
            <numerusform>%n clients</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n open</source>
        <translation>
            <numerusform>%n open</numerusform>
            <numerusform>%n open</numerusform>
        </translation>
    </message>
    <message>
        <source>Client %1 created</source>
        <translation>Client %1 aangemaakt</translation>
    </message>
    <message>
        <source>Send to client</source>
        <translation>Naar client sturen</translation>
    </message>
    <message>
        <source>Text message for %1 to send to its server:</source>
        <translation>Tekstbericht dat %1 naar zijn server stuurt:</translation>
    </message>
    <message>
        <source>Close client</source>
        <translation>Client sluiten</translation>
    </message>
    <message>
        <source>Close client %1 for good? It does not reconnect and is forgotten.</source>
        <translation>Client %1 definitief sluiten? Hij verbindt niet opnieuw en wordt vergeten.</translation>
    </message>
    <message>
        <source>Sent to client %1</source>
        <translation>Naar client %1 gestuurd</translation>
    </message>
    <message>
        <source>Sending to client %1 failed: %2</source>
        <translation>Sturen naar client %1 mislukt: %2</translation>
    </message>
    <message>
        <source>Client %1 closed</source>
        <translation>Client %1 gesloten</translation>
    </message>
    <message>
        <source>Closing client %1 failed: %2</source>
        <translation>Sluiten van client %1 mislukt: %2</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConnectionsModel</name>
    <message>
        <source>Connection</source>
        <translation>Verbinding</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Gebruiker</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sessie</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Kamers</translation>
    </message>
    <message>
        <source>Remote address</source>
        <translation>Externe adres</translation>
    </message>
    <message>
        <source>Origin</source>
        <translation>Origin</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>Verbonden sinds</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Verzonden</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Ontvangen</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpoint</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConnectionsPanel</name>
    <message>
        <source>Filter connections (id, user, session, room, address...)</source>
        <translation>Verbindingen filteren (id, gebruiker, sessie, kamer, adres…)</translation>
    </message>
    <message numerus="yes">
        <source>%n connection(s)</source>
        <translation>
            <numerusform>%n verbinding</numerusform>
            <numerusform>%n verbindingen</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 van %2</translation>
    </message>
    <message>
        <source>Send event to %1...</source>
        <translation>Gebeurtenis naar %1 sturen…</translation>
    </message>
    <message>
        <source>Send raw text frame to %1...</source>
        <translation>Ruw tekstframe naar %1 sturen…</translation>
    </message>
    <message>
        <source>Copy connection id</source>
        <translation>Verbindings-id kopiëren</translation>
    </message>
    <message numerus="yes">
        <source>Copy %n connection id(s)</source>
        <translation>
            <numerusform>%n verbindings-id kopiëren</numerusform>
            <numerusform>%n verbindings-id&apos;s kopiëren</numerusform>
        </translation>
    </message>
    <message>
        <source>Disconnect %1</source>
        <translation>%1 verbreken</translation>
    </message>
    <message numerus="yes">
        <source>Disconnect %n connection(s)</source>
        <translation>
            <numerusform>%n verbinding verbreken</numerusform>
            <numerusform>%n verbindingen verbreken</numerusform>
        </translation>
    </message>
    <message>
        <source>Send raw text</source>
        <translation>Ruwe tekst sturen</translation>
    </message>
    <message>
        <source>Text frame for %1 (sent as is: no id, no log record):</source>
        <translation>Tekstframe voor %1 (ongewijzigd verzonden: geen id, geen logregel):</translation>
    </message>
    <message>
        <source>Text sent to %1</source>
        <translation>Tekst naar %1 verzonden</translation>
    </message>
    <message>
        <source>Sending to %1 failed: %2</source>
        <translation>Verzenden naar %1 mislukt: %2</translation>
    </message>
    <message>
        <source>Disconnect</source>
        <translation>Verbreken</translation>
    </message>
    <message numerus="yes">
        <source>Close %n connection(s) with code 4000? Their pages do not reconnect by themselves.</source>
        <translation>
            <numerusform>%n verbinding sluiten met code 4000? De pagina maakt niet vanzelf opnieuw verbinding.</numerusform>
            <numerusform>%n verbindingen sluiten met code 4000? De pagina&apos;s maken niet vanzelf opnieuw verbinding.</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 disconnected</source>
        <translation>%1 verbroken</translation>
    </message>
    <message>
        <source>Disconnecting %1 failed: %2</source>
        <translation>Verbreken van %1 mislukt: %2</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConsoleBackend</name>
    <message>
        <source>stopped</source>
        <translation>gestopt</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>start</translation>
    </message>
    <message>
        <source>live</source>
        <translation>live</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>verbindt opnieuw</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>mislukt</translation>
    </message>
</context>
<context>
    <name>sb::ui::EndpointsModel</name>
    <message>
        <source>Endpoint</source>
        <translation>Endpoint</translation>
    </message>
    <message>
        <source>Handler</source>
        <translation>Handler</translation>
    </message>
    <message>
        <source>Auth</source>
        <translation>Aanmelding</translation>
    </message>
    <message>
        <source>Sessions</source>
        <translation>Sessies</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>Aanroepen</translation>
    </message>
    <message>
        <source>Failures</source>
        <translation>Mislukt</translation>
    </message>
    <message>
        <source>Error / last error</source>
        <translation>Fout / laatste fout</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Bestand</translation>
    </message>
    <message>
        <source>token</source>
        <translation>token</translation>
    </message>
    <message>
        <source>none</source>
        <translation>geen</translation>
    </message>
    <message>
        <source>(no description)</source>
        <translation>(geen beschrijving)</translation>
    </message>
    <message>
        <source>File: %1</source>
        <translation>Bestand: %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::EndpointsPanel</name>
    <message>
        <source>No endpoints: *.websocket files in the endpoints folder add them.</source>
        <translation>Geen endpoints: *.websocket-bestanden in de endpoints-map voegen ze toe.</translation>
    </message>
    <message numerus="yes">
        <source>%n endpoint(s)</source>
        <translation>
            <numerusform>%n endpoint</numerusform>
            <numerusform>%n endpoints</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n with an error</source>
        <translation>
            <numerusform>%n met een fout</numerusform>
            <numerusform>%n met een fout</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>sb::ui::LocalBackend</name>
    <message>
        <source>starting the server on %1</source>
        <translation>server wordt gestart op %1</translation>
    </message>
    <message>
        <source>serving on %1</source>
        <translation>actief op %1</translation>
    </message>
    <message>
        <source>the server is not running</source>
        <translation>de server draait niet</translation>
    </message>
    <message>
        <source>stopping</source>
        <translation>wordt gestopt</translation>
    </message>
    <message>
        <source>%1: %2 cannot be read</source>
        <translation>%1: %2 kan niet worden gelezen</translation>
    </message>
    <message>
        <source>%1: no spaces at the start or end</source>
        <translation>%1: geen spaties aan het begin of einde</translation>
    </message>
    <message>
        <source>The configuration file is not known.</source>
        <translation>Het configuratiebestand is niet bekend.</translation>
    </message>
    <message>
        <source>%1: not a setting of the server</source>
        <translation>%1: geen instelling van de server</translation>
    </message>
    <message>
        <source>This console hosts its own node; to watch another node, start the console with --attach and that node&apos;s address.</source>
        <translation>Deze console host zijn eigen node; start de console met --attach en het adres van die node om een andere node te volgen.</translation>
    </message>
    <message>
        <source>no client %1</source>
        <translation>geen client %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::LogModel</name>
    <message>
        <source>Id</source>
        <translation>Id</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Tijd</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Bron</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Doel</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Aan</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Gebeurtenis</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Afgeleverd</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Gegevens</translation>
    </message>
    <message>
        <source>Remote</source>
        <translation>Extern</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>Node</translation>
    </message>
</context>
<context>
    <name>sb::ui::LogPanel</name>
    <message>
        <source>Room</source>
        <translation>Kamer</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Gebruiker</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Gebeurtenis</translation>
    </message>
    <message>
        <source>Text in data, names, address</source>
        <translation>Tekst in gegevens, namen, adres</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pauzeren</translation>
    </message>
    <message>
        <source>Hold new records (they are kept and shown on resume)</source>
        <translation>Nieuwe regels vasthouden (ze worden bewaard en bij hervatten getoond)</translation>
    </message>
    <message>
        <source>Follow</source>
        <translation>Volgen</translation>
    </message>
    <message>
        <source>Keep the newest record in view</source>
        <translation>De nieuwste regel in beeld houden</translation>
    </message>
    <message>
        <source>Export...</source>
        <translation>Exporteren…</translation>
    </message>
    <message>
        <source>Save the rows the filters show as CSV or JSON</source>
        <translation>De gefilterde rijen opslaan als CSV of JSON</translation>
    </message>
    <message>
        <source>Older</source>
        <translation>Ouder</translation>
    </message>
    <message>
        <source>Load older records from the server&apos;s message log</source>
        <translation>Oudere regels uit het berichtenlog van de server laden</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Wissen</translation>
    </message>
    <message>
        <source>Empty this view (the server&apos;s log keeps everything)</source>
        <translation>Deze weergave leegmaken (het log van de server bewaart alles)</translation>
    </message>
    <message>
        <source>Select a record to see its data</source>
        <translation>Kies een regel om de gegevens te zien</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Hervatten</translation>
    </message>
    <message>
        <source>%1 of %2 records</source>
        <translation>%1 van %2 regels</translation>
    </message>
    <message>
        <source>%1 records</source>
        <translation>%1 regels</translation>
    </message>
    <message>
        <source> | paused, %1 waiting</source>
        <translation> | gepauzeerd, %1 wachtend</translation>
    </message>
    <message>
        <source> | %1 not shown during floods (in the server&apos;s log)</source>
        <translation> | %1 niet getoond tijdens pieken (in het log van de server)</translation>
    </message>
    <message>
        <source> | loading older records...</source>
        <translation> | oudere regels laden…</translation>
    </message>
    <message>
        <source> | start of the log</source>
        <translation> | begin van het log</translation>
    </message>
    <message>
        <source>to %1%2   event %3   delivered %4   from %5

</source>
        <translation>aan %1%2   gebeurtenis %3   afgeleverd %4   van %5

</translation>
    </message>
    <message>
        <source>Export log rows</source>
        <translation>Logregels exporteren</translation>
    </message>
    <message>
        <source>CSV (*.csv);;JSON (*.json)</source>
        <translation>CSV (*.csv);;JSON (*.json)</translation>
    </message>
    <message>
        <source>Export to %1 failed: %2</source>
        <translation>Exporteren naar %1 mislukt: %2</translation>
    </message>
    <message numerus="yes">
        <source>%n record(s) exported to %1</source>
        <translation>
            <numerusform>%n regel geëxporteerd naar %1</numerusform>
            <numerusform>%n regels geëxporteerd naar %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Loading older records failed: %1</source>
        <translation>Laden van oudere regels mislukt: %1</translation>
    </message>
    <message>
        <source>id %1   %2   source %3</source>
        <translation>id %1   %2   bron %3</translation>
    </message>
    <message>
        <source>   node %1</source>
        <translation>   node %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::MainWindow</name>
    <message>
        <source>Connections</source>
        <translation>Verbindingen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Kamers</translation>
    </message>
    <message>
        <source>Broadcast</source>
        <translation>Uitzenden</translation>
    </message>
    <message>
        <source>Server status</source>
        <translation>Serverstatus</translation>
    </message>
    <message>
        <source>Broadcast failed: %1</source>
        <translation>Uitzenden mislukt: %1</translation>
    </message>
    <message numerus="yes">
        <source>Message %1 delivered to %n connection(s)</source>
        <translation>
            <numerusform>Bericht %1 afgeleverd bij %n verbinding</numerusform>
            <numerusform>Bericht %1 afgeleverd bij %n verbindingen</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Bestand</translation>
    </message>
    <message>
        <source>&amp;Settings...</source>
        <translation>&amp;Instellingen…</translation>
    </message>
    <message>
        <source>&amp;Export log rows...</source>
        <translation>Logregels &amp;exporteren…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Afsluiten</translation>
    </message>
    <message>
        <source>&amp;Server</source>
        <translation>&amp;Server</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>S&amp;toppen</translation>
    </message>
    <message>
        <source>&amp;Restart</source>
        <translation>&amp;Herstarten</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>Beel&amp;d</translation>
    </message>
    <message>
        <source>&amp;Pause log</source>
        <translation>Log &amp;pauzeren</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>Indeling he&amp;rstellen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>&amp;About Switchboard</source>
        <translation>&amp;Over Switchboard</translation>
    </message>
    <message>
        <source>About Switchboard</source>
        <translation>Over Switchboard</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Switchboard %1&lt;/h3&gt;&lt;p&gt;Databases push events over HTTP REST; browsers receive them over WebSocket rooms.&lt;/p&gt;&lt;p&gt;This console shows %2.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Switchboard %1&lt;/h3&gt;&lt;p&gt;Databases sturen gebeurtenissen via HTTP REST; browsers ontvangen ze in WebSocket-kamers.&lt;/p&gt;&lt;p&gt;Deze console toont %2.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Over &amp;Qt</translation>
    </message>
    <message>
        <source>hosted</source>
        <translation>gehost</translation>
    </message>
    <message>
        <source>attached</source>
        <translation>gekoppeld</translation>
    </message>
    <message>
        <source>Switchboard - %1(%2, %3)</source>
        <translation>Switchboard - %1(%2, %3)</translation>
    </message>
    <message>
        <source>Settings saved</source>
        <translation>Instellingen opgeslagen</translation>
    </message>
    <message>
        <source>The settings were saved. Restart the hosted server now to apply them? Connected clients get close code 1001 and reconnect.</source>
        <translation>De instellingen zijn opgeslagen. De gehoste server nu herstarten om ze toe te passen? Verbonden clients krijgen sluitcode 1001 en verbinden opnieuw.</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Nodes</translation>
    </message>
    <message>
        <source>Endpoints</source>
        <translation>Endpoints</translation>
    </message>
    <message>
        <source>Outbound clients</source>
        <translation>Uitgaande clients</translation>
    </message>
</context>
<context>
    <name>sb::ui::NodesModel</name>
    <message>
        <source>Node</source>
        <translation>Node</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adres</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindingen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Kamers</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Looptijd</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>Versie</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 d %2 u</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 u %2 min</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>last heartbeat %1</source>
        <translation>laatste hartslag %1</translation>
    </message>
    <message>
        <source>live</source>
        <translation>live</translation>
    </message>
    <message>
        <source>gone</source>
        <translation>verdwenen</translation>
    </message>
    <message>
        <source>%1, attached</source>
        <translation>%1, gekoppeld</translation>
    </message>
</context>
<context>
    <name>sb::ui::NodesPanel</name>
    <message>
        <source>Attach to this node</source>
        <translation>Aan deze node koppelen</translation>
    </message>
    <message>
        <source>Cannot attach to %1: %2</source>
        <translation>Koppelen aan %1 niet mogelijk: %2</translation>
    </message>
    <message>
        <source>Attaching to node %1 at %2</source>
        <translation>Koppelen aan node %1 op %2</translation>
    </message>
    <message>
        <source>Copy address</source>
        <translation>Adres kopiëren</translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) live</source>
        <translation>
            <numerusform>%1 van %n node live</numerusform>
            <numerusform>%1 van %n nodes live</numerusform>
        </translation>
    </message>
    <message>
        <source>Single node: this server is not part of a cluster.</source>
        <translation>Eén node: deze server maakt geen deel uit van een cluster.</translation>
    </message>
    <message>
        <source>Reconnect the console to the selected node (same API key)</source>
        <translation>De console aan de gekozen node koppelen (dezelfde API-sleutel)</translation>
    </message>
</context>
<context>
    <name>sb::ui::RateChart</name>
    <message>
        <source>Messages per second over the last two minutes: emits in (blue), deliveries out (grey)</source>
        <translation>Berichten per seconde over de laatste twee minuten: binnenkomende emits (blauw), afleveringen (grijs)</translation>
    </message>
    <message>
        <source>max %1/s</source>
        <translation>max. %1/s</translation>
    </message>
</context>
<context>
    <name>sb::ui::RemoteBackend</name>
    <message>
        <source>&apos;%1&apos; is not a URL such as http://host:8080</source>
        <translation>&apos;%1&apos; is geen URL zoals http://host:8080</translation>
    </message>
    <message>
        <source>&apos;%1&apos; must start with http:// or https://</source>
        <translation>&apos;%1&apos; moet beginnen met http:// of https://</translation>
    </message>
    <message>
        <source>connecting to %1</source>
        <translation>verbinden met %1</translation>
    </message>
    <message>
        <source>attached to %1</source>
        <translation>gekoppeld aan %1</translation>
    </message>
    <message>
        <source>the server refused the API key (401) at %1</source>
        <translation>de server weigerde de API-sleutel (401) op %1</translation>
    </message>
    <message>
        <source>the console fell behind (1013)</source>
        <translation>de console liep achter (1013)</translation>
    </message>
    <message>
        <source>connection lost</source>
        <translation>verbinding verbroken</translation>
    </message>
    <message>
        <source>%1; retrying in %2 s</source>
        <translation>%1; nieuwe poging over %2 s</translation>
    </message>
    <message>
        <source>The settings of a remote server are edited in its configuration file, on its machine.</source>
        <translation>De instellingen van een externe server worden in zijn configuratiebestand op zijn eigen machine bewerkt.</translation>
    </message>
    <message>
        <source>node %1 has no address to attach to (&apos;%2&apos;)</source>
        <translation>node %1 heeft geen adres om aan te koppelen (&apos;%2&apos;)</translation>
    </message>
</context>
<context>
    <name>sb::ui::RoomsModel</name>
    <message>
        <source>Room / connection</source>
        <translation>Kamer / verbinding</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Gebruiker</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sessie</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindingen</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Gebruikers</translation>
    </message>
    <message numerus="yes">
        <source>%1: %n connection(s)</source>
        <translation>
            <numerusform>%1: %n verbinding</numerusform>
            <numerusform>%1: %n verbindingen</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>sb::ui::RoomsPanel</name>
    <message>
        <source>Filter rooms</source>
        <translation>Kamers filteren</translation>
    </message>
    <message>
        <source>Filter log</source>
        <translation>Log filteren</translation>
    </message>
    <message>
        <source>Show only this room&apos;s messages in the log</source>
        <translation>Alleen de berichten van deze kamer in het log tonen</translation>
    </message>
    <message>
        <source>Broadcast</source>
        <translation>Uitzenden</translation>
    </message>
    <message>
        <source>Send an event to this room</source>
        <translation>Een gebeurtenis naar deze kamer sturen</translation>
    </message>
    <message numerus="yes">
        <source>%n room(s)</source>
        <translation>
            <numerusform>%n kamer</numerusform>
            <numerusform>%n kamers</numerusform>
        </translation>
    </message>
    <message>
        <source>Show this room&apos;s messages in the log</source>
        <translation>Berichten van deze kamer in het log tonen</translation>
    </message>
    <message>
        <source>Broadcast to %1...</source>
        <translation>Uitzenden naar %1…</translation>
    </message>
    <message>
        <source>Copy room name</source>
        <translation>Kamernaam kopiëren</translation>
    </message>
    <message>
        <source>Show connection %1</source>
        <translation>Verbinding %1 tonen</translation>
    </message>
</context>
<context>
    <name>sb::ui::SettingsDialog</name>
    <message>
        <source>Server settings</source>
        <translation>Serverinstellingen</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Netwerk</translation>
    </message>
    <message>
        <source>Listen address</source>
        <translation>Luisteradres</translation>
    </message>
    <message>
        <source>host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080</source>
        <translation>host:poort, bijv. 127.0.0.1:8080 of 0.0.0.0:8080</translation>
    </message>
    <message>
        <source>TLS certificate (PEM)</source>
        <translation>TLS-certificaat (PEM)</translation>
    </message>
    <message>
        <source>empty: plain http and ws</source>
        <translation>leeg: gewoon http en ws</translation>
    </message>
    <message>
        <source>TLS private key (PEM)</source>
        <translation>Privésleutel voor TLS (PEM)</translation>
    </message>
    <message>
        <source>Choose a file</source>
        <translation>Bestand kiezen</translation>
    </message>
    <message>
        <source>Choose a PEM file</source>
        <translation>PEM-bestand kiezen</translation>
    </message>
    <message>
        <source>PEM (*.pem *.crt *.key);;All files (*)</source>
        <translation>PEM (*.pem *.crt *.key);;Alle bestanden (*)</translation>
    </message>
    <message>
        <source>Allowed origins</source>
        <translation>Toegestane origins</translation>
    </message>
    <message>
        <source>comma-separated, e.g. https://apex.example.com (empty: any)</source>
        <translation>kommagescheiden, bijv. https://apex.example.com (leeg: alle)</translation>
    </message>
    <message>
        <source>Trusted networks</source>
        <translation>Vertrouwde netwerken</translation>
    </message>
    <message>
        <source>CIDRs that may call the compatibility routes without a key</source>
        <translation>CIDR&apos;s die de compatibiliteitsroutes zonder sleutel mogen aanroepen</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>Beveiliging</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API-sleutel</translation>
    </message>
    <message>
        <source>JWT secret</source>
        <translation>JWT-geheim</translation>
    </message>
    <message>
        <source>generated on first start</source>
        <translation>wordt bij de eerste start aangemaakt</translation>
    </message>
    <message>
        <source>Generate a new random value</source>
        <translation>Een nieuwe willekeurige waarde maken</translation>
    </message>
    <message>
        <source>Copy to the clipboard</source>
        <translation>Naar het klembord kopiëren</translation>
    </message>
    <message>
        <source>Show or hide</source>
        <translation>Tonen of verbergen</translation>
    </message>
    <message>
        <source>Longest token lifetime</source>
        <translation>Langste geldigheid van een token</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Limieten</translation>
    </message>
    <message>
        <source>Largest request body</source>
        <translation>Grootste request-body</translation>
    </message>
    <message>
        <source> bytes</source>
        <translation> bytes</translation>
    </message>
    <message>
        <source>Largest WebSocket message</source>
        <translation>Grootste WebSocket-bericht</translation>
    </message>
    <message>
        <source>Unsent bytes per connection</source>
        <translation>Niet-verzonden bytes per verbinding</translation>
    </message>
    <message>
        <source>Most connections</source>
        <translation>Maximaal aantal verbindingen</translation>
    </message>
    <message>
        <source>Read timeout</source>
        <translation>Lees-time-out</translation>
    </message>
    <message>
        <source>Ping interval</source>
        <translation>Ping-interval</translation>
    </message>
    <message>
        <source>Message log</source>
        <translation>Berichtenlog</translation>
    </message>
    <message>
        <source>Log database</source>
        <translation>Logdatabase</translation>
    </message>
    <message>
        <source>empty: SQLite in the data dir; postgresql://user:password@host:port/db; off</source>
        <translation>leeg: SQLite in de datamap; postgresql://user:password@host:port/db; off</translation>
    </message>
    <message>
        <source>Keep records for</source>
        <translation>Regels bewaren gedurende</translation>
    </message>
    <message>
        <source> days</source>
        <translation> dagen</translation>
    </message>
    <message>
        <source>Keep at most</source>
        <translation>Maximaal bewaren</translation>
    </message>
    <message>
        <source> records</source>
        <translation> regels</translation>
    </message>
    <message>
        <source>Events per room in memory</source>
        <translation>Gebeurtenissen per kamer in het geheugen</translation>
    </message>
    <message>
        <source>PostgreSQL LISTEN</source>
        <translation>PostgreSQL LISTEN</translation>
    </message>
    <message>
        <source>postgresql://user:password@host:port/db (empty: off)</source>
        <translation>postgresql://user:password@host:port/db (leeg: uit)</translation>
    </message>
    <message>
        <source>LISTEN channel</source>
        <translation>LISTEN-kanaal</translation>
    </message>
    <message>
        <source>switchboard</source>
        <translation>switchboard</translation>
    </message>
    <message>
        <source>Saved to %1. Changes apply when the hosted server starts again.</source>
        <translation>Opgeslagen in %1. Wijzigingen gelden wanneer de gehoste server opnieuw start.</translation>
    </message>
    <message>
        <source>Set by command-line flags or environment variables for this session (they win over the file): %1</source>
        <translation>Voor deze sessie ingesteld via opdrachtregelopties of omgevingsvariabelen (die gaan voor het bestand): %1</translation>
    </message>
    <message>
        <source>%1: the file&apos;s value &apos;%2&apos; is outside %3..%4; the field shows the default.</source>
        <translation>%1: de waarde &apos;%2&apos; in het bestand ligt buiten %3..%4; het veld toont de standaardwaarde.</translation>
    </message>
</context>
<context>
    <name>sb::ui::StatusPanel</name>
    <message numerus="yes">
        <source>%n day(s) %1</source>
        <translation>
            <numerusform>%n dag %1</numerusform>
            <numerusform>%n dagen %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Start</source>
        <translation>Starten</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stoppen</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adres</translation>
    </message>
    <message>
        <source>TLS</source>
        <translation>TLS</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Looptijd</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindingen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Kamers</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Gebruikers</translation>
    </message>
    <message>
        <source>Messages/s</source>
        <translation>Berichten/s</translation>
    </message>
    <message>
        <source>Total in / out</source>
        <translation>Totaal in / uit</translation>
    </message>
    <message>
        <source>Start the hosted server</source>
        <translation>De gehoste server starten</translation>
    </message>
    <message>
        <source>Stop the hosted server (clients get close code 1001)</source>
        <translation>De gehoste server stoppen (clients krijgen sluitcode 1001)</translation>
    </message>
    <message>
        <source>on (https, wss)</source>
        <translation>aan (https, wss)</translation>
    </message>
    <message>
        <source>off</source>
        <translation>uit</translation>
    </message>
    <message>
        <source>%1 in, %2 out</source>
        <translation>%1 in, %2 uit</translation>
    </message>
</context>
</TS>
