-- N3 Patch replacing a value (where + deletes + inserts) on one document.
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "text/n3"
wrk.body = [[@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix ex: <http://ex.org/>.
_:p a solid:InsertDeletePatch;
  solid:where { <#it> ex:count ?n };
  solid:deletes { <#it> ex:count ?n };
  solid:inserts { <#it> ex:count 1 }.]]
