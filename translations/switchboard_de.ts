<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>ConsoleApp</name>
    <message>
        <source>Watch a remote server instead of hosting one: its base URL, http[s]://host:port (with --api-key).</source>
        <translation>Einen entfernten Server beobachten, statt einen zu hosten: seine Basis-URL, http[s]://host:port (mit --api-key).</translation>
    </message>
    <message>
        <source>Run the hosted server with no window and no display.</source>
        <translation>Den gehosteten Server ohne Fenster und ohne Display ausführen.</translation>
    </message>
    <message>
        <source>Language of the console: en, de or nl (default: the system&apos;s).</source>
        <translation>Sprache der Konsole: en, de oder nl (Standard: die des Systems).</translation>
    </message>
</context>
<context>
    <name>JsonText</name>
    <message>
        <source>no JSON value</source>
        <translation>kein JSON-Wert</translation>
    </message>
    <message>
        <source>more than one value (wrap them in [ ] or { })</source>
        <translation>mehr als ein Wert (in [ ] oder { } einschließen)</translation>
    </message>
</context>
<context>
    <name>sb::ui::BroadcastPanel</name>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>All connections</source>
        <translation>Alle Verbindungen</translation>
    </message>
    <message>
        <source>Room</source>
        <translation>Raum</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <source>A predefined event or any custom name (1 to 130 characters)</source>
        <translation>Ein vordefiniertes Ereignis oder ein eigener Name (1 bis 130 Zeichen)</translation>
    </message>
    <message>
        <source>JSON data, e.g. {&quot;text&quot;: &quot;hello&quot;} (empty: null)</source>
        <translation>JSON-Daten, z. B. {&quot;text&quot;: &quot;hallo&quot;} (leer: null)</translation>
    </message>
    <message>
        <source>Double-click to send again</source>
        <translation>Doppelklicken, um erneut zu senden</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>Erneut senden</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Data (JSON)</source>
        <translation>Daten (JSON)</translation>
    </message>
    <message>
        <source>Recent sends</source>
        <translation>Zuletzt gesendet</translation>
    </message>
    <message>
        <source>every connection that joined a room</source>
        <translation>jede Verbindung, die einem Raum beigetreten ist</translation>
    </message>
    <message>
        <source>room, e.g. hr:emp:1234</source>
        <translation>Raum, z. B. hr:emp:1234</translation>
    </message>
    <message>
        <source>user name, e.g. SCOTT</source>
        <translation>Benutzername, z. B. SCOTT</translation>
    </message>
    <message>
        <source>connection id, e.g. c12</source>
        <translation>Verbindungs-ID, z. B. c12</translation>
    </message>
    <message>
        <source>No data: the event carries null.</source>
        <translation>Keine Daten: das Ereignis trägt null.</translation>
    </message>
    <message>
        <source>Valid JSON.</source>
        <translation>Gültiges JSON.</translation>
    </message>
    <message>
        <source>Invalid JSON at line %1, column %2: %3</source>
        <translation>Ungültiges JSON in Zeile %1, Spalte %2: %3</translation>
    </message>
    <message>
        <source>The event name is longer than 130 characters.</source>
        <translation>Der Ereignisname ist länger als 130 Zeichen.</translation>
    </message>
    <message>
        <source>Enter a %1 name.</source>
        <translation>Geben Sie einen Namen für %1 ein.</translation>
    </message>
    <message>
        <source>The server is not live.</source>
        <translation>Der Server ist nicht aktiv.</translation>
    </message>
    <message>
        <source>Sending...</source>
        <translation>Wird gesendet …</translation>
    </message>
    <message>
        <source>Not sent: %1</source>
        <translation>Nicht gesendet: %1</translation>
    </message>
    <message numerus="yes">
        <source>Delivered to %n connection(s) (message id %1).</source>
        <translation>
            <numerusform>An %n Verbindung zugestellt (Nachrichten-ID %1).</numerusform>
            <numerusform>An %n Verbindungen zugestellt (Nachrichten-ID %1).</numerusform>
        </translation>
    </message>
    <message>
        <source>all</source>
        <translation>alle</translation>
    </message>
    <message>
        <source>room %1</source>
        <translation>Raum %1</translation>
    </message>
    <message>
        <source>user %1</source>
        <translation>Benutzer %1</translation>
    </message>
    <message>
        <source>connection %1</source>
        <translation>Verbindung %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::ClientDialog</name>
    <message>
        <source>Events go to a &amp;handler</source>
        <translation>Ereignisse gehen an einen &amp;Handler</translation>
    </message>
    <message>
        <source>Messages are emitted to a &amp;room</source>
        <translation>Nachrichten werden in einen &amp;Raum gesendet</translation>
    </message>
    <message>
        <source>Create outbound client</source>
        <translation>Ausgehenden Client anlegen</translation>
    </message>
    <message>
        <source>ws://host:port/path or wss://...</source>
        <translation>ws://host:port/pfad oder wss://…</translation>
    </message>
    <message>
        <source>a script under endpoints_dir or an http(s) URL</source>
        <translation>ein Skript unter endpoints_dir oder eine http(s)-URL</translation>
    </message>
    <message>
        <source>&amp;Create</source>
        <translation>&amp;Anlegen</translation>
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
        <translation>Raum:</translation>
    </message>
    <message>
        <source>Event:</source>
        <translation>Ereignis:</translation>
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
        <translation>Ziel</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>Seit</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Empfangen</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Reconnects</source>
        <translation>Neuverbindungen</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>handler %1</source>
        <translation>Handler %1</translation>
    </message>
    <message>
        <source>room %1, event %2</source>
        <translation>Raum %1, Ereignis %2</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>verbindet</translation>
    </message>
    <message>
        <source>open</source>
        <translation>offen</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>geschlossen</translation>
    </message>
</context>
<context>
    <name>sb::ui::ClientsPanel</name>
    <message>
        <source>Create...</source>
        <translation>Anlegen …</translation>
    </message>
    <message>
        <source>Send...</source>
        <translation>Senden …</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Open a WebSocket client from this server to another one</source>
        <translation>Einen WebSocket-Client von diesem Server zu einem anderen öffnen</translation>
    </message>
    <message>
        <source>Close the selected client for good (it does not reconnect)</source>
        <translation>Den gewählten Client endgültig schließen (er verbindet sich nicht neu)</translation>
    </message>
    <message>
        <source>No outbound clients.</source>
        <translation>Keine ausgehenden Clients.</translation>
    </message>
    <message numerus="yes">
        <source>%n client(s)</source>
        <translation>
            <numerusform>%n Client</numerusform>
            <numerusform>%n Clients</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n open</source>
        <translation>
            <numerusform>%n offen</numerusform>
            <numerusform>%n offen</numerusform>
        </translation>
    </message>
    <message>
        <source>Client %1 created</source>
        <translation>Client %1 angelegt</translation>
    </message>
    <message>
        <source>Send to client</source>
        <translation>An Client senden</translation>
    </message>
    <message>
        <source>Text message for %1 to send to its server:</source>
        <translation>Textnachricht, die %1 an seinen Server sendet:</translation>
    </message>
    <message>
        <source>Close client</source>
        <translation>Client schließen</translation>
    </message>
    <message>
        <source>Close client %1 for good? It does not reconnect and is forgotten.</source>
        <translation>Client %1 endgültig schließen? Er verbindet sich nicht neu und wird vergessen.</translation>
    </message>
    <message>
        <source>Sent to client %1</source>
        <translation>An Client %1 gesendet</translation>
    </message>
    <message>
        <source>Sending to client %1 failed: %2</source>
        <translation>Senden an Client %1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Client %1 closed</source>
        <translation>Client %1 geschlossen</translation>
    </message>
    <message>
        <source>Closing client %1 failed: %2</source>
        <translation>Schließen von Client %1 fehlgeschlagen: %2</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConnectionsModel</name>
    <message>
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sitzung</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message>
        <source>Remote address</source>
        <translation>Gegenadresse</translation>
    </message>
    <message>
        <source>Origin</source>
        <translation>Origin</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>Verbunden seit</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Empfangen</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConnectionsPanel</name>
    <message>
        <source>Filter connections (id, user, session, room, address...)</source>
        <translation>Verbindungen filtern (ID, Benutzer, Sitzung, Raum, Adresse …)</translation>
    </message>
    <message numerus="yes">
        <source>%n connection(s)</source>
        <translation>
            <numerusform>%n Verbindung</numerusform>
            <numerusform>%n Verbindungen</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 von %2</translation>
    </message>
    <message>
        <source>Send event to %1...</source>
        <translation>Ereignis an %1 senden …</translation>
    </message>
    <message>
        <source>Send raw text frame to %1...</source>
        <translation>Rohen Text-Frame an %1 senden …</translation>
    </message>
    <message>
        <source>Copy connection id</source>
        <translation>Verbindungs-ID kopieren</translation>
    </message>
    <message numerus="yes">
        <source>Copy %n connection id(s)</source>
        <translation>
            <numerusform>%n Verbindungs-ID kopieren</numerusform>
            <numerusform>%n Verbindungs-IDs kopieren</numerusform>
        </translation>
    </message>
    <message>
        <source>Disconnect %1</source>
        <translation>%1 trennen</translation>
    </message>
    <message numerus="yes">
        <source>Disconnect %n connection(s)</source>
        <translation>
            <numerusform>%n Verbindung trennen</numerusform>
            <numerusform>%n Verbindungen trennen</numerusform>
        </translation>
    </message>
    <message>
        <source>Send raw text</source>
        <translation>Rohtext senden</translation>
    </message>
    <message>
        <source>Text frame for %1 (sent as is: no id, no log record):</source>
        <translation>Text-Frame für %1 (unverändert gesendet: keine ID, kein Protokolleintrag):</translation>
    </message>
    <message>
        <source>Text sent to %1</source>
        <translation>Text an %1 gesendet</translation>
    </message>
    <message>
        <source>Sending to %1 failed: %2</source>
        <translation>Senden an %1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Disconnect</source>
        <translation>Trennen</translation>
    </message>
    <message numerus="yes">
        <source>Close %n connection(s) with code 4000? Their pages do not reconnect by themselves.</source>
        <translation>
            <numerusform>%n Verbindung mit Code 4000 schließen? Ihre Seite verbindet sich nicht von selbst neu.</numerusform>
            <numerusform>%n Verbindungen mit Code 4000 schließen? Ihre Seiten verbinden sich nicht von selbst neu.</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 disconnected</source>
        <translation>%1 getrennt</translation>
    </message>
    <message>
        <source>Disconnecting %1 failed: %2</source>
        <translation>Trennen von %1 fehlgeschlagen: %2</translation>
    </message>
</context>
<context>
    <name>sb::ui::ConsoleBackend</name>
    <message>
        <source>stopped</source>
        <translation>gestoppt</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>startet</translation>
    </message>
    <message>
        <source>live</source>
        <translation>live</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>verbindet neu</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
</context>
<context>
    <name>sb::ui::EndpointsModel</name>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
    <message>
        <source>Handler</source>
        <translation>Handler</translation>
    </message>
    <message>
        <source>Auth</source>
        <translation>Anmeldung</translation>
    </message>
    <message>
        <source>Sessions</source>
        <translation>Sitzungen</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>Aufrufe</translation>
    </message>
    <message>
        <source>Failures</source>
        <translation>Fehlschläge</translation>
    </message>
    <message>
        <source>Error / last error</source>
        <translation>Fehler / letzter Fehler</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>(no description)</source>
        <translation>(keine Beschreibung)</translation>
    </message>
    <message>
        <source>File: %1</source>
        <translation>Datei: %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::EndpointsPanel</name>
    <message>
        <source>No endpoints: *.websocket files in the endpoints folder add them.</source>
        <translation>Keine Endpunkte: *.websocket-Dateien im Endpunkte-Ordner legen sie an.</translation>
    </message>
    <message numerus="yes">
        <source>%n endpoint(s)</source>
        <translation>
            <numerusform>%n Endpunkt</numerusform>
            <numerusform>%n Endpunkte</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n with an error</source>
        <translation>
            <numerusform>%n mit Fehler</numerusform>
            <numerusform>%n mit Fehler</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>sb::ui::LocalBackend</name>
    <message>
        <source>starting the server on %1</source>
        <translation>Server wird auf %1 gestartet</translation>
    </message>
    <message>
        <source>serving on %1</source>
        <translation>bedient %1</translation>
    </message>
    <message>
        <source>the server is not running</source>
        <translation>der Server läuft nicht</translation>
    </message>
    <message>
        <source>stopping</source>
        <translation>wird gestoppt</translation>
    </message>
    <message>
        <source>%1: %2 cannot be read</source>
        <translation>%1: %2 kann nicht gelesen werden</translation>
    </message>
    <message>
        <source>%1: no spaces at the start or end</source>
        <translation>%1: keine Leerzeichen am Anfang oder Ende</translation>
    </message>
    <message>
        <source>The configuration file is not known.</source>
        <translation>Die Konfigurationsdatei ist nicht bekannt.</translation>
    </message>
    <message>
        <source>%1: not a setting of the server</source>
        <translation>%1: keine Einstellung des Servers</translation>
    </message>
    <message>
        <source>This console hosts its own node; to watch another node, start the console with --attach and that node&apos;s address.</source>
        <translation>Diese Konsole hostet ihren eigenen Knoten; um einen anderen Knoten zu beobachten, starten Sie die Konsole mit --attach und der Adresse dieses Knotens.</translation>
    </message>
    <message>
        <source>no client %1</source>
        <translation>kein Client %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::LogModel</name>
    <message>
        <source>Id</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Quelle</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>To</source>
        <translation>An</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Zugestellt</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Daten</translation>
    </message>
    <message>
        <source>Remote</source>
        <translation>Gegenstelle</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>Knoten</translation>
    </message>
</context>
<context>
    <name>sb::ui::LogPanel</name>
    <message>
        <source>Room</source>
        <translation>Raum</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Text in data, names, address</source>
        <translation>Text in Daten, Namen, Adresse</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Hold new records (they are kept and shown on resume)</source>
        <translation>Neue Einträge zurückhalten (sie bleiben erhalten und erscheinen beim Fortsetzen)</translation>
    </message>
    <message>
        <source>Follow</source>
        <translation>Folgen</translation>
    </message>
    <message>
        <source>Keep the newest record in view</source>
        <translation>Den neuesten Eintrag im Blick behalten</translation>
    </message>
    <message>
        <source>Export...</source>
        <translation>Exportieren …</translation>
    </message>
    <message>
        <source>Save the rows the filters show as CSV or JSON</source>
        <translation>Die gefilterten Zeilen als CSV oder JSON speichern</translation>
    </message>
    <message>
        <source>Older</source>
        <translation>Ältere</translation>
    </message>
    <message>
        <source>Load older records from the server&apos;s message log</source>
        <translation>Ältere Einträge aus dem Nachrichtenprotokoll des Servers laden</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Empty this view (the server&apos;s log keeps everything)</source>
        <translation>Diese Ansicht leeren (das Protokoll des Servers behält alles)</translation>
    </message>
    <message>
        <source>Select a record to see its data</source>
        <translation>Einen Eintrag wählen, um seine Daten zu sehen</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>%1 of %2 records</source>
        <translation>%1 von %2 Einträgen</translation>
    </message>
    <message>
        <source>%1 records</source>
        <translation>%1 Einträge</translation>
    </message>
    <message>
        <source> | paused, %1 waiting</source>
        <translation> | angehalten, %1 wartend</translation>
    </message>
    <message>
        <source> | %1 not shown during floods (in the server&apos;s log)</source>
        <translation> | %1 bei Lastspitzen nicht angezeigt (im Protokoll des Servers)</translation>
    </message>
    <message>
        <source> | loading older records...</source>
        <translation> | ältere Einträge werden geladen …</translation>
    </message>
    <message>
        <source> | start of the log</source>
        <translation> | Anfang des Protokolls</translation>
    </message>
    <message>
        <source>to %1%2   event %3   delivered %4   from %5

</source>
        <translation>an %1%2   Ereignis %3   zugestellt %4   von %5

</translation>
    </message>
    <message>
        <source>Export log rows</source>
        <translation>Protokollzeilen exportieren</translation>
    </message>
    <message>
        <source>CSV (*.csv);;JSON (*.json)</source>
        <translation>CSV (*.csv);;JSON (*.json)</translation>
    </message>
    <message>
        <source>Export to %1 failed: %2</source>
        <translation>Export nach %1 fehlgeschlagen: %2</translation>
    </message>
    <message numerus="yes">
        <source>%n record(s) exported to %1</source>
        <translation>
            <numerusform>%n Eintrag nach %1 exportiert</numerusform>
            <numerusform>%n Einträge nach %1 exportiert</numerusform>
        </translation>
    </message>
    <message>
        <source>Loading older records failed: %1</source>
        <translation>Laden älterer Einträge fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>id %1   %2   source %3</source>
        <translation>ID %1   %2   Quelle %3</translation>
    </message>
    <message>
        <source>   node %1</source>
        <translation>   Knoten %1</translation>
    </message>
</context>
<context>
    <name>sb::ui::MainWindow</name>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message>
        <source>Broadcast</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Server status</source>
        <translation>Serverstatus</translation>
    </message>
    <message>
        <source>Broadcast failed: %1</source>
        <translation>Senden fehlgeschlagen: %1</translation>
    </message>
    <message numerus="yes">
        <source>Message %1 delivered to %n connection(s)</source>
        <translation>
            <numerusform>Nachricht %1 an %n Verbindung zugestellt</numerusform>
            <numerusform>Nachricht %1 an %n Verbindungen zugestellt</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Settings...</source>
        <translation>&amp;Einstellungen …</translation>
    </message>
    <message>
        <source>&amp;Export log rows...</source>
        <translation>Protokollzeilen &amp;exportieren …</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
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
        <translation>&amp;Neu starten</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Pause log</source>
        <translation>Protokoll an&amp;halten</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>Anordnung &amp;zurücksetzen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Switchboard</source>
        <translation>&amp;Über Switchboard</translation>
    </message>
    <message>
        <source>About Switchboard</source>
        <translation>Über Switchboard</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Switchboard %1&lt;/h3&gt;&lt;p&gt;Databases push events over HTTP REST; browsers receive them over WebSocket rooms.&lt;/p&gt;&lt;p&gt;This console shows %2.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Switchboard %1&lt;/h3&gt;&lt;p&gt;Datenbanken senden Ereignisse über HTTP-REST; Browser empfangen sie in WebSocket-Räumen.&lt;/p&gt;&lt;p&gt;Diese Konsole zeigt %2.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>hosted</source>
        <translation>gehostet</translation>
    </message>
    <message>
        <source>attached</source>
        <translation>verbunden</translation>
    </message>
    <message>
        <source>Switchboard - %1(%2, %3)</source>
        <translation>Switchboard - %1(%2, %3)</translation>
    </message>
    <message>
        <source>Settings saved</source>
        <translation>Einstellungen gespeichert</translation>
    </message>
    <message>
        <source>The settings were saved. Restart the hosted server now to apply them? Connected clients get close code 1001 and reconnect.</source>
        <translation>Die Einstellungen wurden gespeichert. Den gehosteten Server jetzt neu starten, um sie anzuwenden? Verbundene Clients erhalten den Close-Code 1001 und verbinden sich neu.</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Endpoints</source>
        <translation>Endpunkte</translation>
    </message>
    <message>
        <source>Outbound clients</source>
        <translation>Ausgehende Clients</translation>
    </message>
</context>
<context>
    <name>sb::ui::NodesModel</name>
    <message>
        <source>Node</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Laufzeit</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T. %2 Std.</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 Std. %2 Min.</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 Min. %2 s</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>last heartbeat %1</source>
        <translation>letztes Lebenszeichen %1</translation>
    </message>
    <message>
        <source>live</source>
        <translation>live</translation>
    </message>
    <message>
        <source>gone</source>
        <translation>verschwunden</translation>
    </message>
    <message>
        <source>%1, attached</source>
        <translation>%1, verbunden</translation>
    </message>
</context>
<context>
    <name>sb::ui::NodesPanel</name>
    <message>
        <source>Attach to this node</source>
        <translation>Mit diesem Knoten verbinden</translation>
    </message>
    <message>
        <source>Cannot attach to %1: %2</source>
        <translation>Verbinden mit %1 nicht möglich: %2</translation>
    </message>
    <message>
        <source>Attaching to node %1 at %2</source>
        <translation>Verbinde mit Knoten %1 unter %2</translation>
    </message>
    <message>
        <source>Copy address</source>
        <translation>Adresse kopieren</translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) live</source>
        <translation>
            <numerusform>%1 von %n Knoten live</numerusform>
            <numerusform>%1 von %n Knoten live</numerusform>
        </translation>
    </message>
    <message>
        <source>Single node: this server is not part of a cluster.</source>
        <translation>Einzelner Knoten: Dieser Server ist nicht Teil eines Clusters.</translation>
    </message>
    <message>
        <source>Reconnect the console to the selected node (same API key)</source>
        <translation>Die Konsole mit dem ausgewählten Knoten verbinden (derselbe API-Schlüssel)</translation>
    </message>
</context>
<context>
    <name>sb::ui::RateChart</name>
    <message>
        <source>Messages per second over the last two minutes: emits in (blue), deliveries out (grey)</source>
        <translation>Nachrichten pro Sekunde der letzten zwei Minuten: eingehende Emits (blau), Zustellungen (grau)</translation>
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
        <translation>&apos;%1&apos; ist keine URL wie http://host:8080</translation>
    </message>
    <message>
        <source>&apos;%1&apos; must start with http:// or https://</source>
        <translation>&apos;%1&apos; muss mit http:// oder https:// beginnen</translation>
    </message>
    <message>
        <source>connecting to %1</source>
        <translation>verbinde mit %1</translation>
    </message>
    <message>
        <source>attached to %1</source>
        <translation>verbunden mit %1</translation>
    </message>
    <message>
        <source>the server refused the API key (401) at %1</source>
        <translation>der Server hat den API-Schlüssel abgelehnt (401) bei %1</translation>
    </message>
    <message>
        <source>the console fell behind (1013)</source>
        <translation>die Konsole kam nicht hinterher (1013)</translation>
    </message>
    <message>
        <source>connection lost</source>
        <translation>Verbindung verloren</translation>
    </message>
    <message>
        <source>%1; retrying in %2 s</source>
        <translation>%1; neuer Versuch in %2 s</translation>
    </message>
    <message>
        <source>The settings of a remote server are edited in its configuration file, on its machine.</source>
        <translation>Die Einstellungen eines entfernten Servers werden in seiner Konfigurationsdatei auf seinem Rechner bearbeitet.</translation>
    </message>
    <message>
        <source>node %1 has no address to attach to (&apos;%2&apos;)</source>
        <translation>Knoten %1 hat keine Adresse zum Verbinden (&apos;%2&apos;)</translation>
    </message>
</context>
<context>
    <name>sb::ui::RoomsModel</name>
    <message>
        <source>Room / connection</source>
        <translation>Raum / Verbindung</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sitzung</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Benutzer</translation>
    </message>
    <message numerus="yes">
        <source>%1: %n connection(s)</source>
        <translation>
            <numerusform>%1: %n Verbindung</numerusform>
            <numerusform>%1: %n Verbindungen</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>sb::ui::RoomsPanel</name>
    <message>
        <source>Filter rooms</source>
        <translation>Räume filtern</translation>
    </message>
    <message>
        <source>Filter log</source>
        <translation>Protokoll filtern</translation>
    </message>
    <message>
        <source>Show only this room&apos;s messages in the log</source>
        <translation>Nur die Nachrichten dieses Raums im Protokoll zeigen</translation>
    </message>
    <message>
        <source>Broadcast</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Send an event to this room</source>
        <translation>Ein Ereignis an diesen Raum senden</translation>
    </message>
    <message numerus="yes">
        <source>%n room(s)</source>
        <translation>
            <numerusform>%n Raum</numerusform>
            <numerusform>%n Räume</numerusform>
        </translation>
    </message>
    <message>
        <source>Show this room&apos;s messages in the log</source>
        <translation>Nachrichten dieses Raums im Protokoll zeigen</translation>
    </message>
    <message>
        <source>Broadcast to %1...</source>
        <translation>An %1 senden …</translation>
    </message>
    <message>
        <source>Copy room name</source>
        <translation>Raumnamen kopieren</translation>
    </message>
    <message>
        <source>Show connection %1</source>
        <translation>Verbindung %1 zeigen</translation>
    </message>
</context>
<context>
    <name>sb::ui::SettingsDialog</name>
    <message>
        <source>Server settings</source>
        <translation>Servereinstellungen</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Netzwerk</translation>
    </message>
    <message>
        <source>Listen address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080</source>
        <translation>host:port, z. B. 127.0.0.1:8080 oder 0.0.0.0:8080</translation>
    </message>
    <message>
        <source>TLS certificate (PEM)</source>
        <translation>TLS-Zertifikat (PEM)</translation>
    </message>
    <message>
        <source>empty: plain http and ws</source>
        <translation>leer: unverschlüsselt http und ws</translation>
    </message>
    <message>
        <source>TLS private key (PEM)</source>
        <translation>Privater TLS-Schlüssel (PEM)</translation>
    </message>
    <message>
        <source>Choose a file</source>
        <translation>Datei wählen</translation>
    </message>
    <message>
        <source>Choose a PEM file</source>
        <translation>PEM-Datei wählen</translation>
    </message>
    <message>
        <source>PEM (*.pem *.crt *.key);;All files (*)</source>
        <translation>PEM (*.pem *.crt *.key);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Allowed origins</source>
        <translation>Erlaubte Origins</translation>
    </message>
    <message>
        <source>comma-separated, e.g. https://apex.example.com (empty: any)</source>
        <translation>kommagetrennt, z. B. https://apex.example.com (leer: alle)</translation>
    </message>
    <message>
        <source>Trusted networks</source>
        <translation>Vertrauenswürdige Netze</translation>
    </message>
    <message>
        <source>CIDRs that may call the compatibility routes without a key</source>
        <translation>CIDRs, die die Kompatibilitätsrouten ohne Schlüssel aufrufen dürfen</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>Sicherheit</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API-Schlüssel</translation>
    </message>
    <message>
        <source>JWT secret</source>
        <translation>JWT-Geheimnis</translation>
    </message>
    <message>
        <source>generated on first start</source>
        <translation>wird beim ersten Start erzeugt</translation>
    </message>
    <message>
        <source>Generate a new random value</source>
        <translation>Einen neuen Zufallswert erzeugen</translation>
    </message>
    <message>
        <source>Copy to the clipboard</source>
        <translation>In die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>Show or hide</source>
        <translation>Zeigen oder verbergen</translation>
    </message>
    <message>
        <source>Longest token lifetime</source>
        <translation>Längste Token-Gültigkeit</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Grenzen</translation>
    </message>
    <message>
        <source>Largest request body</source>
        <translation>Größter Request-Body</translation>
    </message>
    <message>
        <source> bytes</source>
        <translation> Bytes</translation>
    </message>
    <message>
        <source>Largest WebSocket message</source>
        <translation>Größte WebSocket-Nachricht</translation>
    </message>
    <message>
        <source>Unsent bytes per connection</source>
        <translation>Ungesendete Bytes pro Verbindung</translation>
    </message>
    <message>
        <source>Most connections</source>
        <translation>Höchstzahl an Verbindungen</translation>
    </message>
    <message>
        <source>Read timeout</source>
        <translation>Lese-Timeout</translation>
    </message>
    <message>
        <source>Ping interval</source>
        <translation>Ping-Intervall</translation>
    </message>
    <message>
        <source>Message log</source>
        <translation>Nachrichtenprotokoll</translation>
    </message>
    <message>
        <source>Log database</source>
        <translation>Protokolldatenbank</translation>
    </message>
    <message>
        <source>empty: SQLite in the data dir; postgresql://user:password@host:port/db; off</source>
        <translation>leer: SQLite im Datenverzeichnis; postgresql://user:password@host:port/db; off</translation>
    </message>
    <message>
        <source>Keep records for</source>
        <translation>Einträge aufbewahren für</translation>
    </message>
    <message>
        <source> days</source>
        <translation> Tage</translation>
    </message>
    <message>
        <source>Keep at most</source>
        <translation>Höchstens aufbewahren</translation>
    </message>
    <message>
        <source> records</source>
        <translation> Einträge</translation>
    </message>
    <message>
        <source>Events per room in memory</source>
        <translation>Ereignisse pro Raum im Speicher</translation>
    </message>
    <message>
        <source>PostgreSQL LISTEN</source>
        <translation>PostgreSQL LISTEN</translation>
    </message>
    <message>
        <source>postgresql://user:password@host:port/db (empty: off)</source>
        <translation>postgresql://user:password@host:port/db (leer: aus)</translation>
    </message>
    <message>
        <source>LISTEN channel</source>
        <translation>LISTEN-Kanal</translation>
    </message>
    <message>
        <source>switchboard</source>
        <translation>switchboard</translation>
    </message>
    <message>
        <source>Saved to %1. Changes apply when the hosted server starts again.</source>
        <translation>Gespeichert in %1. Änderungen gelten beim nächsten Start des gehosteten Servers.</translation>
    </message>
    <message>
        <source>Set by command-line flags or environment variables for this session (they win over the file): %1</source>
        <translation>Für diese Sitzung durch Kommandozeilenoptionen oder Umgebungsvariablen gesetzt (sie haben Vorrang vor der Datei): %1</translation>
    </message>
    <message>
        <source>%1: the file&apos;s value &apos;%2&apos; is outside %3..%4; the field shows the default.</source>
        <translation>%1: der Wert &apos;%2&apos; der Datei liegt außerhalb von %3..%4; das Feld zeigt den Standardwert.</translation>
    </message>
</context>
<context>
    <name>sb::ui::StatusPanel</name>
    <message numerus="yes">
        <source>%n day(s) %1</source>
        <translation>
            <numerusform>%n Tag %1</numerusform>
            <numerusform>%n Tage %1</numerusform>
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
        <translation>Adresse</translation>
    </message>
    <message>
        <source>TLS</source>
        <translation>TLS</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Laufzeit</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Messages/s</source>
        <translation>Nachrichten/s</translation>
    </message>
    <message>
        <source>Total in / out</source>
        <translation>Gesamt ein / aus</translation>
    </message>
    <message>
        <source>Start the hosted server</source>
        <translation>Den gehosteten Server starten</translation>
    </message>
    <message>
        <source>Stop the hosted server (clients get close code 1001)</source>
        <translation>Den gehosteten Server stoppen (Clients erhalten Close-Code 1001)</translation>
    </message>
    <message>
        <source>on (https, wss)</source>
        <translation>an (https, wss)</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>%1 in, %2 out</source>
        <translation>%1 ein, %2 aus</translation>
    </message>
</context>
</TS>
