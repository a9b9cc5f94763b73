"""The picture of DSI in Europe, in every interface language: the map (/map), the network (/map/network) and the
groupings (/map/groupings). Each page carries its table (what a browser without JavaScript shows) and the
scripts draw the view from the JSON API (gateway/api/maps.py). `?embed=1` gives the view without the site's
chrome, the only variant another site may frame.
"""

from ..common.dependencies import SETTINGS
from ..common.http import RpcProxy, call
from ..common.templating import environment, render
from . import dataviz
from .pages import page

PAGE_TIMEOUT = 5
environment.globals.setdefault("VIZ_LABELS", dataviz.labels_attribute)  # record pages draw their own network


class MapPages:
    search = RpcProxy("search")
    settings = SETTINGS

    def _view(self, request, lang, view: str, template: str, **data):
        chosen = dataviz.selection(request.args)
        countries = call(self.search.map_countries, dataviz.service_params(chosen), timeout=PAGE_TIMEOUT)
        builder = getattr(dataviz, f"{view}_page")
        context = builder(lang, request.args, request.query_string.decode("latin-1"),
                          self.settings.public_url.rstrip("/"), countries, **data)
        return render(template, headers=dataviz.frame_policy(context["embed"]), request=request, **context)

    @page("/map")
    def map_page(self, request, lang):
        return self._view(request, lang, "map", "map/map.html")

    @page("/map/network")
    def network_page(self, request, lang):
        return self._view(request, lang, "network", "map/network.html", graph=self._answer(request, "network"))

    @page("/map/groupings")
    def groupings_page(self, request, lang):
        return self._view(request, lang, "groupings", "map/groupings.html", answer=self._answer(request, "groupings"))

    def _answer(self, request, view: str):
        """The search service's answer for a view of the selection in the address (its RPC has the view's name)."""
        chosen = dataviz.selection(request.args)
        params = dataviz.service_params(chosen, **dataviz.view_options(request.args, view))
        return call(getattr(self.search, view), params, timeout=PAGE_TIMEOUT)
