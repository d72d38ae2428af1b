/// The PostgreSQL schema, run only by `hearth db migrate` as the database owner: tables in the
/// schema `hearth`, the survivor functions the intake may execute, and the two login roles with
/// exactly the privileges SECURITY.md §4 lists. The services never run DDL; they check the version.
enum PostgresSchema {
    /// The version a service expects (`hearth.schema_version()`).
    static let version = 3

    /// Creates the roles if missing (roles belong to the whole cluster, so two databases migrated
    /// at once may race to create them: the loser finds them made). No password is set here (the
    /// operator chooses scram or certificates in `pg_hba.conf`).
    static let roles = """
        DO $$ BEGIN
          BEGIN
            CREATE ROLE hearth_intake LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END;
          BEGIN
            CREATE ROLE hearth_casework LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END;
        END $$
        """

    /// Version 1: every table, the append-only audit, the survivor functions and the grants.
    static let v1 = """
        CREATE SCHEMA hearth;
        REVOKE ALL ON SCHEMA hearth FROM PUBLIC;
        CREATE TABLE hearth.staff (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          username text NOT NULL UNIQUE,
          role text NOT NULL,
          pseudonym text NOT NULL UNIQUE,
          password_hash text NOT NULL,
          totp_secret bytea NOT NULL,
          totp_last_step bigint NOT NULL DEFAULT 0,
          must_change_password boolean NOT NULL DEFAULT true,
          disabled boolean NOT NULL DEFAULT false,
          failed_logins integer NOT NULL DEFAULT 0,
          locked_until bigint NOT NULL DEFAULT 0,
          created bigint NOT NULL
        );
        CREATE TABLE hearth.sessions (
          token_hash bytea PRIMARY KEY,
          staff_id bigint NOT NULL REFERENCES hearth.staff(id) ON DELETE CASCADE,
          created bigint NOT NULL,
          last_seen bigint NOT NULL
        );
        CREATE TABLE hearth.records (
          rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          id bytea NOT NULL UNIQUE CHECK (length(id) = 10),
          lookup bytea NOT NULL UNIQUE CHECK (length(lookup) = 32),
          format integer NOT NULL,
          created_hour bigint NOT NULL,
          region text,
          status text NOT NULL DEFAULT 'new',
          commitment bytea NOT NULL CHECK (length(commitment) = 32),
          body bytea NOT NULL,
          survivor_wrap bytea NOT NULL,
          no_consent_since bigint,
          assignee bigint REFERENCES hearth.staff(id)
        );
        CREATE INDEX records_no_consent ON hearth.records(no_consent_since) WHERE no_consent_since IS NOT NULL;
        CREATE TABLE hearth.consent_events (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          record_rid bigint NOT NULL REFERENCES hearth.records(rid) ON DELETE CASCADE,
          scope text NOT NULL,
          action text NOT NULL CHECK (action IN ('granted','withdrawn','expired')),
          expires text,
          at bigint NOT NULL
        );
        CREATE INDEX consent_events_scope ON hearth.consent_events(record_rid, scope, seq);
        CREATE TABLE hearth.consent_wraps (
          record_rid bigint NOT NULL REFERENCES hearth.records(rid) ON DELETE CASCADE,
          scope text NOT NULL CHECK (scope IN ('support','review','police','prosecution')),
          key_version bigint NOT NULL,
          wrap bytea NOT NULL,
          expires text,
          grant_seq bigint NOT NULL,
          PRIMARY KEY (record_rid, scope)
        );
        CREATE INDEX consent_wraps_version ON hearth.consent_wraps(scope, key_version, record_rid);
        CREATE INDEX consent_wraps_expires ON hearth.consent_wraps(expires) WHERE expires IS NOT NULL;
        CREATE TABLE hearth.messages (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          record_rid bigint NOT NULL REFERENCES hearth.records(rid) ON DELETE CASCADE,
          note_id bytea NOT NULL,
          from_survivor boolean NOT NULL,
          staff_id bigint REFERENCES hearth.staff(id),
          at bigint NOT NULL,
          sealed bytea NOT NULL
        );
        CREATE INDEX messages_record ON hearth.messages(record_rid);
        CREATE TABLE hearth.access_log (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          record_rid bigint NOT NULL REFERENCES hearth.records(rid) ON DELETE CASCADE,
          note_id bytea NOT NULL,
          staff_id bigint NOT NULL REFERENCES hearth.staff(id),
          role text NOT NULL,
          at bigint NOT NULL,
          sealed_reason bytea NOT NULL
        );
        CREATE INDEX access_log_record ON hearth.access_log(record_rid);
        CREATE TABLE hearth.audit (
          seq bigint PRIMARY KEY,
          at bigint NOT NULL,
          actor text NOT NULL,
          role text NOT NULL,
          action text NOT NULL,
          subject text NOT NULL,
          scope text NOT NULL,
          outcome text NOT NULL,
          previous_hash bytea NOT NULL,
          hash bytea NOT NULL
        );
        CREATE TABLE hearth.audit_checkpoints (
          seq bigint PRIMARY KEY,
          hash bytea NOT NULL,
          at bigint NOT NULL,
          key_version bigint NOT NULL,
          signature bytea NOT NULL
        );
        -- The survivor's audit events, written by the intake functions; casework chains them.
        CREATE TABLE hearth.audit_inbox (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          at bigint NOT NULL,
          action text NOT NULL,
          record_id bytea NOT NULL,
          scope text NOT NULL DEFAULT ''
        );
        CREATE FUNCTION hearth.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON hearth.audit
          FOR EACH ROW EXECUTE FUNCTION hearth.refuse_change();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON hearth.audit
          FOR EACH STATEMENT EXECUTE FUNCTION hearth.refuse_change();
        CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON hearth.audit_checkpoints
          FOR EACH ROW EXECUTE FUNCTION hearth.refuse_change();
        CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON hearth.audit_checkpoints
          FOR EACH STATEMENT EXECUTE FUNCTION hearth.refuse_change();

        -- A wrap opens only while it answers its scope's latest consent event, a grant.
        CREATE FUNCTION hearth.wrap_is_bound(p_rid bigint, p_scope text, p_grant bigint) RETURNS boolean
        LANGUAGE sql STABLE SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT coalesce((SELECT e.seq = p_grant AND e.action = 'granted' FROM hearth.consent_events e
                           WHERE e.record_rid = p_rid AND e.scope = p_scope ORDER BY e.seq DESC LIMIT 1), false)
        $$;

        CREATE FUNCTION hearth.schema_version() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;

        -- The survivor functions: SECURITY DEFINER, each reaching one record by its receipt's
        -- lookup id, each writing its own audit event into the inbox.
        CREATE FUNCTION hearth.intake_submit(
          p_id bytea, p_lookup bytea, p_created_hour bigint, p_region text, p_commitment bytea, p_body bytea,
          p_survivor_wrap bytea, p_scopes text[], p_versions bigint[], p_wraps bytea[], p_expires text[], p_at bigint
        ) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_seq bigint; i integer;
        BEGIN
          IF coalesce(array_length(p_scopes, 1), 0) <> coalesce(array_length(p_versions, 1), 0)
             OR coalesce(array_length(p_scopes, 1), 0) <> coalesce(array_length(p_wraps, 1), 0)
             OR coalesce(array_length(p_scopes, 1), 0) <> coalesce(array_length(p_expires, 1), 0) THEN
            RAISE EXCEPTION 'wrap arrays differ in length';
          END IF;
          INSERT INTO records (id, lookup, format, created_hour, region, commitment, body, survivor_wrap, no_consent_since)
          VALUES (p_id, p_lookup, 1, p_created_hour, p_region, p_commitment, p_body, p_survivor_wrap,
                  CASE WHEN coalesce(array_length(p_scopes, 1), 0) = 0 THEN p_at END)
          RETURNING rid INTO v_rid;
          INSERT INTO audit_inbox (at, action, record_id) VALUES (p_at, 'record.create', p_id);
          FOR i IN 1 .. coalesce(array_length(p_scopes, 1), 0) LOOP
            INSERT INTO consent_events (record_rid, scope, action, expires, at)
            VALUES (v_rid, p_scopes[i], 'granted', nullif(p_expires[i], ''), p_at) RETURNING seq INTO v_seq;
            INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, expires, grant_seq)
            VALUES (v_rid, p_scopes[i], p_versions[i], p_wraps[i], nullif(p_expires[i], ''), v_seq);
            INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'consent.grant', p_id, p_scopes[i]);
          END LOOP;
        END $$;

        CREATE FUNCTION hearth.intake_record(p_lookup bytea) RETURNS TABLE (
          id bytea, created_hour bigint, region text, status text, commitment bytea, body bytea, survivor_wrap bytea,
          scope text, key_version bigint, wrap bytea, expires text
        ) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT r.id, r.created_hour, r.region, r.status, r.commitment, r.body, r.survivor_wrap,
                 w.scope, w.key_version, w.wrap, w.expires
          FROM records r LEFT JOIN consent_wraps w
            ON w.record_rid = r.rid AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)
          WHERE r.lookup = p_lookup ORDER BY w.scope
        $$;

        CREATE FUNCTION hearth.intake_put_consent(
          p_lookup bytea, p_scope text, p_version bigint, p_wrap bytea, p_expires text, p_at bigint
        ) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea; v_seq bigint;
        BEGIN
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup FOR UPDATE;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO consent_events (record_rid, scope, action, expires, at)
          VALUES (v_rid, p_scope, 'granted', p_expires, p_at) RETURNING seq INTO v_seq;
          INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, expires, grant_seq)
          VALUES (v_rid, p_scope, p_version, p_wrap, p_expires, v_seq)
          ON CONFLICT (record_rid, scope) DO UPDATE
            SET key_version = EXCLUDED.key_version, wrap = EXCLUDED.wrap, expires = EXCLUDED.expires, grant_seq = EXCLUDED.grant_seq;
          UPDATE records SET no_consent_since = NULL WHERE rid = v_rid;
          INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'consent.grant', v_id, p_scope);
          RETURN true;
        END $$;

        CREATE FUNCTION hearth.intake_remove_consent(p_lookup bytea, p_scope text, p_action text, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea; v_grant bigint;
        BEGIN
          IF p_action NOT IN ('withdrawn', 'expired') THEN RAISE EXCEPTION 'unknown consent action'; END IF;
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup FOR UPDATE;
          IF NOT FOUND THEN RETURN false; END IF;
          DELETE FROM consent_wraps WHERE record_rid = v_rid AND scope = p_scope RETURNING grant_seq INTO v_grant;
          IF NOT FOUND THEN RETURN false; END IF;
          -- A wrap not bound to its grant was live for no one: it is deleted, but nothing ends.
          IF NOT hearth.wrap_is_bound(v_rid, p_scope, v_grant) THEN RETURN false; END IF;
          INSERT INTO consent_events (record_rid, scope, action, at) VALUES (v_rid, p_scope, p_action, p_at);
          UPDATE records SET no_consent_since = p_at
            WHERE rid = v_rid AND NOT EXISTS (SELECT 1 FROM consent_wraps WHERE record_rid = v_rid);
          INSERT INTO audit_inbox (at, action, record_id, scope)
          VALUES (p_at, CASE p_action WHEN 'withdrawn' THEN 'consent.withdraw' ELSE 'consent.expire' END, v_id, p_scope);
          RETURN true;
        END $$;

        CREATE FUNCTION hearth.intake_consent_history(p_lookup bytea)
        RETURNS TABLE (scope text, action text, expires text, at bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT e.scope, e.action, e.expires, e.at FROM consent_events e
          WHERE e.record_rid = (SELECT rid FROM records WHERE lookup = p_lookup) ORDER BY e.seq
        $$;

        CREATE FUNCTION hearth.intake_erase(p_lookup bytea, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_id bytea;
        BEGIN
          DELETE FROM records WHERE lookup = p_lookup RETURNING id INTO v_id;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO audit_inbox (at, action, record_id) VALUES (p_at, 'record.erase', v_id);
          RETURN true;
        END $$;

        CREATE FUNCTION hearth.intake_messages(p_lookup bytea)
        RETURNS TABLE (note_id bytea, author text, at bigint, sealed bytea, pseudonym text, role text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT m.note_id, CASE WHEN m.from_survivor THEN 'survivor' ELSE 'staff' END, m.at, m.sealed, s.pseudonym, s.role
          FROM messages m LEFT JOIN staff s ON s.id = m.staff_id
          WHERE m.record_rid = (SELECT rid FROM records WHERE lookup = p_lookup) ORDER BY m.seq
        $$;

        CREATE FUNCTION hearth.intake_add_message(p_lookup bytea, p_note_id bytea, p_sealed bytea, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea;
        BEGIN
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO messages (record_rid, note_id, from_survivor, at, sealed) VALUES (v_rid, p_note_id, true, p_at, p_sealed);
          INSERT INTO audit_inbox (at, action, record_id) VALUES (p_at, 'message.write', v_id);
          RETURN true;
        END $$;

        CREATE FUNCTION hearth.intake_access_log(p_lookup bytea)
        RETURNS TABLE (note_id bytea, author text, at bigint, sealed bytea, pseudonym text, role text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT a.note_id, 'staff', a.at, a.sealed_reason, s.pseudonym, a.role
          FROM access_log a JOIN staff s ON s.id = a.staff_id
          WHERE a.record_rid = (SELECT rid FROM records WHERE lookup = p_lookup) ORDER BY a.seq
        $$;

        -- Nothing for PUBLIC; each role gets exactly its side.
        REVOKE ALL ON ALL TABLES IN SCHEMA hearth FROM PUBLIC;
        REVOKE ALL ON ALL FUNCTIONS IN SCHEMA hearth FROM PUBLIC;
        GRANT USAGE ON SCHEMA hearth TO hearth_intake, hearth_casework;
        GRANT EXECUTE ON FUNCTION hearth.schema_version() TO hearth_intake, hearth_casework;
        GRANT EXECUTE ON FUNCTION hearth.wrap_is_bound(bigint, text, bigint) TO hearth_casework;
        GRANT EXECUTE ON FUNCTION
          hearth.intake_submit(bytea, bytea, bigint, text, bytea, bytea, bytea, text[], bigint[], bytea[], text[], bigint),
          hearth.intake_record(bytea), hearth.intake_put_consent(bytea, text, bigint, bytea, text, bigint),
          hearth.intake_remove_consent(bytea, text, text, bigint), hearth.intake_consent_history(bytea),
          hearth.intake_erase(bytea, bigint), hearth.intake_messages(bytea),
          hearth.intake_add_message(bytea, bytea, bytea, bigint), hearth.intake_access_log(bytea)
          TO hearth_intake;
        GRANT SELECT, INSERT, UPDATE ON hearth.staff TO hearth_casework;
        GRANT SELECT, INSERT, UPDATE, DELETE ON hearth.sessions TO hearth_casework;
        GRANT SELECT, DELETE ON hearth.records TO hearth_casework;
        GRANT UPDATE (status, assignee, no_consent_since) ON hearth.records TO hearth_casework;
        GRANT SELECT, DELETE ON hearth.consent_wraps TO hearth_casework;
        GRANT UPDATE (wrap, key_version) ON hearth.consent_wraps TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.consent_events TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.messages TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.access_log TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.audit TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.audit_checkpoints TO hearth_casework;
        GRANT SELECT, DELETE ON hearth.audit_inbox TO hearth_casework;
        """

    /// Version 2 (from 1): the published transparency months (SECURITY.md §13). Inserts only:
    /// `hearth_casework` may select and insert, triggers refuse every change, and the intake
    /// reads them through one `SECURITY DEFINER` function.
    static let v2 = """
        CREATE TABLE hearth.published_months (
          month text PRIMARY KEY CHECK (length(month) = 7),
          computed_day text NOT NULL,
          figures bytea NOT NULL
        );
        CREATE TRIGGER published_months_append_only BEFORE UPDATE OR DELETE ON hearth.published_months
          FOR EACH ROW EXECUTE FUNCTION hearth.refuse_change();
        CREATE TRIGGER published_months_no_truncate BEFORE TRUNCATE ON hearth.published_months
          FOR EACH STATEMENT EXECUTE FUNCTION hearth.refuse_change();
        CREATE FUNCTION hearth.intake_published_months() RETURNS TABLE (figures bytea)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT p.figures FROM published_months p ORDER BY p.month
        $$;
        CREATE OR REPLACE FUNCTION hearth.schema_version() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 2 $$;
        REVOKE ALL ON hearth.published_months FROM PUBLIC;
        REVOKE ALL ON FUNCTION hearth.intake_published_months() FROM PUBLIC;
        GRANT SELECT, INSERT ON hearth.published_months TO hearth_casework;
        GRANT EXECUTE ON FUNCTION hearth.intake_published_months() TO hearth_intake;
        """

    /// Version 3 (from 2): a conversation per group (SECURITY.md §3.13). Each consent wrap row
    /// carries the conversation wrap beside it (so withdrawal deletes both, a re-wrap moves both
    /// and a retired version leaves neither), every message names its group, and the survivor
    /// functions take and return both. `hearth db migrate` refuses a database that still holds
    /// messages or consent wraps of the older format (``PostgresMigration``).
    static let v3 = """
        ALTER TABLE hearth.consent_wraps ADD COLUMN conversation_wrap bytea NOT NULL CHECK (length(conversation_wrap) = 105);
        ALTER TABLE hearth.messages ADD COLUMN scope text NOT NULL CHECK (scope IN ('support','review','police','prosecution'));
        CREATE INDEX messages_conversation ON hearth.messages(record_rid, scope, seq);
        ALTER TABLE hearth.records ADD COLUMN paused boolean NOT NULL DEFAULT false, ADD COLUMN paused_until text;
        CREATE TABLE hearth.interviews (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          record_rid bigint NOT NULL REFERENCES hearth.records(rid) ON DELETE CASCADE,
          interview_id bytea NOT NULL UNIQUE CHECK (length(interview_id) = 16),
          scope text NOT NULL CHECK (scope IN ('support','review','police','prosecution')),
          staff_id bigint REFERENCES hearth.staff(id),
          state text NOT NULL CHECK (state IN ('invited','accepted','times-proposed','question-asked','declined','withdrawn')),
          times bigint[] NOT NULL,
          chosen bigint,
          invited_at bigint NOT NULL,
          answered_at bigint,
          revision integer NOT NULL DEFAULT 0,
          invitation bytea NOT NULL,
          answer bytea
        );
        CREATE INDEX interviews_conversation ON hearth.interviews(record_rid, scope, seq);

        DROP FUNCTION hearth.intake_submit(bytea, bytea, bigint, text, bytea, bytea, bytea, text[], bigint[], bytea[], text[], bigint);
        CREATE FUNCTION hearth.intake_submit(
          p_id bytea, p_lookup bytea, p_created_hour bigint, p_region text, p_commitment bytea, p_body bytea,
          p_survivor_wrap bytea, p_scopes text[], p_versions bigint[], p_wraps bytea[], p_conversation_wraps bytea[],
          p_expires text[], p_at bigint
        ) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_seq bigint; v_n integer; i integer;
        BEGIN
          v_n := coalesce(array_length(p_scopes, 1), 0);
          IF v_n <> coalesce(array_length(p_versions, 1), 0) OR v_n <> coalesce(array_length(p_wraps, 1), 0)
             OR v_n <> coalesce(array_length(p_conversation_wraps, 1), 0) OR v_n <> coalesce(array_length(p_expires, 1), 0) THEN
            RAISE EXCEPTION 'wrap arrays differ in length';
          END IF;
          INSERT INTO records (id, lookup, format, created_hour, region, commitment, body, survivor_wrap, no_consent_since)
          VALUES (p_id, p_lookup, 1, p_created_hour, p_region, p_commitment, p_body, p_survivor_wrap, CASE WHEN v_n = 0 THEN p_at END)
          RETURNING rid INTO v_rid;
          INSERT INTO audit_inbox (at, action, record_id) VALUES (p_at, 'record.create', p_id);
          FOR i IN 1 .. v_n LOOP
            INSERT INTO consent_events (record_rid, scope, action, expires, at)
            VALUES (v_rid, p_scopes[i], 'granted', nullif(p_expires[i], ''), p_at) RETURNING seq INTO v_seq;
            INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires, grant_seq)
            VALUES (v_rid, p_scopes[i], p_versions[i], p_wraps[i], p_conversation_wraps[i], nullif(p_expires[i], ''), v_seq);
            INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'consent.grant', p_id, p_scopes[i]);
          END LOOP;
        END $$;

        DROP FUNCTION hearth.intake_record(bytea);
        CREATE FUNCTION hearth.intake_record(p_lookup bytea) RETURNS TABLE (
          id bytea, created_hour bigint, region text, status text, commitment bytea, body bytea, survivor_wrap bytea,
          paused boolean, paused_until text, scope text, key_version bigint, wrap bytea, conversation_wrap bytea, expires text
        ) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT r.id, r.created_hour, r.region, r.status, r.commitment, r.body, r.survivor_wrap, r.paused, r.paused_until,
                 w.scope, w.key_version, w.wrap, w.conversation_wrap, w.expires
          FROM records r LEFT JOIN consent_wraps w
            ON w.record_rid = r.rid AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)
          WHERE r.lookup = p_lookup ORDER BY w.scope
        $$;

        DROP FUNCTION hearth.intake_put_consent(bytea, text, bigint, bytea, text, bigint);
        CREATE FUNCTION hearth.intake_put_consent(
          p_lookup bytea, p_scope text, p_version bigint, p_wrap bytea, p_conversation_wrap bytea, p_expires text, p_at bigint
        ) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea; v_seq bigint;
        BEGIN
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup FOR UPDATE;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO consent_events (record_rid, scope, action, expires, at)
          VALUES (v_rid, p_scope, 'granted', p_expires, p_at) RETURNING seq INTO v_seq;
          INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires, grant_seq)
          VALUES (v_rid, p_scope, p_version, p_wrap, p_conversation_wrap, p_expires, v_seq)
          ON CONFLICT (record_rid, scope) DO UPDATE
            SET key_version = EXCLUDED.key_version, wrap = EXCLUDED.wrap, conversation_wrap = EXCLUDED.conversation_wrap,
                expires = EXCLUDED.expires, grant_seq = EXCLUDED.grant_seq;
          UPDATE records SET no_consent_since = NULL WHERE rid = v_rid;
          INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'consent.grant', v_id, p_scope);
          RETURN true;
        END $$;

        DROP FUNCTION hearth.intake_messages(bytea);
        CREATE FUNCTION hearth.intake_messages(p_lookup bytea)
        RETURNS TABLE (note_id bytea, author text, at bigint, sealed bytea, pseudonym text, role text, scope text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT m.note_id, CASE WHEN m.from_survivor THEN 'survivor' ELSE 'staff' END, m.at, m.sealed, s.pseudonym, s.role, m.scope
          FROM messages m LEFT JOIN staff s ON s.id = m.staff_id
          WHERE m.record_rid = (SELECT rid FROM records WHERE lookup = p_lookup) ORDER BY m.seq
        $$;

        -- A message goes only to a group the survivor shares the request with on that day (UTC).
        DROP FUNCTION hearth.intake_add_message(bytea, bytea, bytea, bigint);
        CREATE FUNCTION hearth.intake_add_message(p_lookup bytea, p_scope text, p_note_id bytea, p_sealed bytea, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea;
        BEGIN
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup;
          IF NOT FOUND THEN RETURN false; END IF;
          IF NOT EXISTS (SELECT 1 FROM consent_wraps w WHERE w.record_rid = v_rid AND w.scope = p_scope
                         AND (w.expires IS NULL OR w.expires >= to_char(to_timestamp(p_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
                         AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)) THEN
            RETURN false;
          END IF;
          INSERT INTO messages (record_rid, scope, note_id, from_survivor, at, sealed) VALUES (v_rid, p_scope, p_note_id, true, p_at, p_sealed);
          INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'message.write', v_id, p_scope);
          RETURN true;
        END $$;

        -- A new verification phrase: the whole body, sealed again by the intake (SECURITY.md §3.6).
        CREATE FUNCTION hearth.intake_replace_body(p_lookup bytea, p_body bytea, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_id bytea;
        BEGIN
          UPDATE records SET body = p_body WHERE lookup = p_lookup RETURNING id INTO v_id;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO audit_inbox (at, action, record_id) VALUES (p_at, 'phrase.change', v_id);
          RETURN true;
        END $$;

        -- The survivor pauses all contact (until a day, or until resumed) or resumes it.
        CREATE FUNCTION hearth.intake_set_pause(p_lookup bytea, p_paused boolean, p_until text, p_at bigint)
        RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_id bytea;
        BEGIN
          UPDATE records SET paused = p_paused, paused_until = CASE WHEN p_paused THEN p_until END
            WHERE lookup = p_lookup RETURNING id INTO v_id;
          IF NOT FOUND THEN RETURN false; END IF;
          INSERT INTO audit_inbox (at, action, record_id)
          VALUES (p_at, CASE WHEN p_paused THEN 'contact.pause' ELSE 'contact.resume' END, v_id);
          RETURN true;
        END $$;

        -- Invitations to interviews (SECURITY.md §3.13): every group's, for the survivor to open.
        CREATE FUNCTION hearth.intake_interviews(p_lookup bytea)
        RETURNS TABLE (
          interview_id bytea, scope text, state text, times bigint[], chosen bigint, invited_at bigint, answered_at bigint, revision integer,
          invitation bytea, answer bytea, pseudonym text, role text
        ) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
          SELECT i.interview_id, i.scope, i.state, i.times, i.chosen, i.invited_at, i.answered_at, i.revision, i.invitation, i.answer,
                 s.pseudonym, s.role
          FROM interviews i LEFT JOIN staff s ON s.id = i.staff_id
          WHERE i.record_rid = (SELECT rid FROM records WHERE lookup = p_lookup) ORDER BY i.seq
        $$;

        -- The survivor's answer, as revision p_revision + 1, only while they share with the group
        -- on that day (UTC): 'done', 'gone', 'stale' or 'consent-gone'.
        CREATE FUNCTION hearth.intake_answer_interview(
          p_lookup bytea, p_interview_id bytea, p_revision integer, p_state text, p_chosen bigint, p_answer bytea, p_action text, p_at bigint
        ) RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hearth, pg_temp AS $$
        DECLARE v_rid bigint; v_id bytea; v_scope text; v_revision integer;
        BEGIN
          SELECT rid, id INTO v_rid, v_id FROM records WHERE lookup = p_lookup FOR SHARE;
          IF NOT FOUND THEN RETURN 'gone'; END IF;
          SELECT i.scope, i.revision INTO v_scope, v_revision FROM interviews i
            WHERE i.record_rid = v_rid AND i.interview_id = p_interview_id FOR UPDATE;
          IF NOT FOUND THEN RETURN 'gone'; END IF;
          IF v_revision <> p_revision THEN RETURN 'stale'; END IF;
          IF NOT EXISTS (SELECT 1 FROM consent_wraps w WHERE w.record_rid = v_rid AND w.scope = v_scope
                         AND (w.expires IS NULL OR w.expires >= to_char(to_timestamp(p_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
                         AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)) THEN
            RETURN 'consent-gone';
          END IF;
          IF p_action NOT IN ('accept', 'propose-times', 'ask', 'decline', 'withdraw') THEN RAISE EXCEPTION 'unknown answer'; END IF;
          UPDATE interviews SET state = p_state, chosen = p_chosen, answer = p_answer, answered_at = p_at, revision = revision + 1
            WHERE record_rid = v_rid AND interview_id = p_interview_id;
          INSERT INTO audit_inbox (at, action, record_id, scope) VALUES (p_at, 'interview.' || p_action, v_id, v_scope);
          RETURN 'done';
        END $$;

        CREATE OR REPLACE FUNCTION hearth.schema_version() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 3 $$;
        REVOKE ALL ON FUNCTION
          hearth.intake_submit(bytea, bytea, bigint, text, bytea, bytea, bytea, text[], bigint[], bytea[], bytea[], text[], bigint),
          hearth.intake_record(bytea), hearth.intake_put_consent(bytea, text, bigint, bytea, bytea, text, bigint),
          hearth.intake_messages(bytea), hearth.intake_add_message(bytea, text, bytea, bytea, bigint),
          hearth.intake_replace_body(bytea, bytea, bigint), hearth.intake_set_pause(bytea, boolean, text, bigint),
          hearth.intake_interviews(bytea), hearth.intake_answer_interview(bytea, bytea, integer, text, bigint, bytea, text, bigint)
          FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION
          hearth.intake_submit(bytea, bytea, bigint, text, bytea, bytea, bytea, text[], bigint[], bytea[], bytea[], text[], bigint),
          hearth.intake_record(bytea), hearth.intake_put_consent(bytea, text, bigint, bytea, bytea, text, bigint),
          hearth.intake_messages(bytea), hearth.intake_add_message(bytea, text, bytea, bytea, bigint),
          hearth.intake_replace_body(bytea, bytea, bigint), hearth.intake_set_pause(bytea, boolean, text, bigint),
          hearth.intake_interviews(bytea), hearth.intake_answer_interview(bytea, bytea, integer, text, bigint, bytea, text, bigint)
          TO hearth_intake;
        GRANT UPDATE (conversation_wrap) ON hearth.consent_wraps TO hearth_casework;
        GRANT SELECT, INSERT ON hearth.interviews TO hearth_casework;
        """
}
