// Reads iCalendar documents with ical.js, the parser of Thunderbird's calendar and Nextcloud
// Calendar, and prints what it makes of each event.
//
// stdin:  a JSON object {name: icsText, ...}
// stdout: a JSON object {name: {method, events: [{uid, start, end, sequence, status, tzid}]}}
//         with start and end as UTC instants in seconds since the epoch.
//
// Each document's own VTIMEZONE definitions are used (nothing is registered in ical.js's
// timezone service), as in a calendar app that has never seen the zone before.
import ICAL from "ical.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

const out = {};
for (const [name, text] of Object.entries(JSON.parse(input))) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const start = component.getFirstProperty("dtstart");
    return {
      uid: event.uid,
      start: event.startDate.toUnixTime(),
      end: event.endDate.toUnixTime(),
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      tzid: start.getParameter("tzid") || null,
    };
  });
  out[name] = { method: calendar.getFirstPropertyValue("method"), events };
}
process.stdout.write(JSON.stringify(out));
