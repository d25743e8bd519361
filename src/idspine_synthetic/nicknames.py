"""The generator's own nickname vocabulary (``NoiseRates.nickname_extended``).

Written for the generator alone and never read from idspine's matching data (the
``nicknames`` package behind ``nicknames: true``): a benchmark that drew its noise from the
table the matcher uses would grade the matcher on its own answers. It holds short forms and
diminutives heard in France, English-speaking countries, Germany and Spain: several per
name, some shared by many names (Alex, Max, Juju), some far from their formal name (Paco for
Francisco, Peggy for Margaret), a few hundred pairs in all. Keys are first names of the
generator's vocabulary; the plainer ``NICKNAMES`` table of the default profile is separate.
"""

from __future__ import annotations

_TABLE = """
Jean: Jeannot Jeanjean; Pierre: Pierrot Pierrick Pierro; Marie: Mimi Maryse Mary; Sophie: Soso
Sophia; Camille: Cam Milou; Chloé: Chlo Cloclo; Manon: Manou; Emma: Emmy; Zoé: Zozo; Hélène:
Léna Lène; Françoise: Fanfan Françou; Sébastien: Seb Bastien Sébas; Jérôme: Jéjé Jérém;
Stéphane: Steph Stef Fanou; Frédéric: Fred Fredo Fredy; Émilie: Milie Emy Mimi; Élodie: Lodie
Elo; Amélie: Mélie Amé; Céline: Célo Lili; Aurélie: Aurel Lili; Loïc: Lolo; Anaïs: Nana Ana;
Benoît: Ben Benny; François: Fanfan Francky Franck Fanch; Rémi: Rem Rémy; Lucas: Luc Lulu;
Louis: Loulou Lou Loulouis; Gabriel: Gaby Gab Gabi; Arthur: Tutur Art Arth; Jules: Juju Julot;
Nathan: Nat Nath Nato; Raphaël: Raph Rafa Raf; Mathis: Math Matt; Thomas: Tom Tommy Thom Toto;
Nicolas: Nico Colas Nick Nicky; Julien: Juju Jul Julo; Antoine: Toine Tony Titou Antoni;
Maxime: Max Maxou Maxi; Alexandre: Alex Sacha Xandre Alexou; Guillaume: Guigui Will Gui Guyom;
Romain: Rom Romi; Mathieu: Matt Math Matou Mat; Vincent: Vince Vinz Vinc; Olivier: Olive Oli
Olli Olive; Laurent: Lolo Lau; Philippe: Phil Flip Fifi Philou; Michel: Mimi Mich Micky Michou;
Alain: Al Alanou; Patrick: Pat Patou Rick Patoche; Christophe: Chris Tof Totof Cricri; David:
Dave Davy Dav; Éric: Ric Rico Riri; Bruno: Bru Bubu; Didier: Didi; Thierry: Titi Thierr;
Pascal: Pasc Pascou; Gilles: Gillou Gigi; Bernard: Nanard Bernie Ben; Daniel: Dan Dany Danny
Dédé; Denis: Dédé Deny; Marc: Marco Marcou; Paul: Paulo Polo Popaul; Jacques: Jacquot Jaco Jack
Jacky; André: Dédé Andy; René: Néné; Claude: Clo Coco Claudy; Henri: Riri Henry; Xavier: Xav
Xavi; Cédric: Ced Cédou; Damien: Dam Dami; Fabien: Fab Fabi Fabou; Florian: Flo Flori; Kévin:
Kev Kéké; Quentin: Quent Tintin; Adrien: Adri Drien; Baptiste: Bapt Titi Babar; Clément: Clem
Clemou; Valentin: Val Valou Tintin; Alexis: Alex Lexou; Simon: Sim Simo; Victor: Vic Vico Totor;
Martin: Marty Tintin; Bastien: Bast Basti; Corentin: Coco Coren Coco; Isabelle: Isa Babeth
Belle Isabel; Nathalie: Nath Nat Natha; Sandrine: Sandy Sand Sandri; Valérie: Val Valou Valé;
Christine: Chris Tine Kiki Christy; Catherine: Cathy Cat Kate Cathou; Sylvie: Syl Sylvi;
Véronique: Véro Vera; Martine: Titine Marti; Monique: Mo Momo Mono; Nicole: Nicky Coco Nico;
Brigitte: Gigi Bibi Brigi; Anne: Annie Nanou Anouk; Julie: Juju Jules Ju; Laura: Lolo Laurie;
Pauline: Popo Line Paupau; Lucie: Lulu Lucy Luce; Justine: Juju Justy Tine; Charlotte: Charlie
Lotte Lolotte Cha; Alice: Lili Ali Lissou; Louise: Lou Loulou Louisa; Juliette: Juju Jul
Juliet; Margaux: Margot Margo Gogo; Océane: Océ Nane; Mélanie: Mel Mélo Méla; Virginie: Virgi
Ginie Gigi; Stéphanie: Steph Fanny Stef; Caroline: Caro Carol Line Carole; Delphine: Delph
Fifine Delphi; Karine: Kari Kaka; Laetitia: Laeti Tisha Titia; Béatrice: Béa Trixie Béatrix;
Geneviève: Ginette Genny Viève; Mireille: Mimi Mimie; Solène: Sol Solé; Noémie: Nono Mimi Noé;
Cécile: Céci Cissou Cécé; Agathe: Aga Gaga; Margot: Margo Gogo; Clémence: Clem Clémi; Adèle:
Dédèle Adi; Héloïse: Lolo Élo Héloé; Jeanne: Jeannette Jeannot Janou; Élise: Lili Lisa Lison;
Nina: Ninou Ninon; Eva: Evy Evita; Romane: Roro Roma; Jean-Pierre: JP Jean-Pi Jeanpi;
Jean-Luc: JL Jean-Lu; Marie-Claire: Marie-Cla Claire; Anne-Sophie: Anne-So Sophie;
Marie-Hélène: Malou Marie-Hé; William: Bill Will Billy Liam Willy; Robert: Bob Rob Bobby
Robbie Bert; Elizabeth: Liz Beth Betty Lizzie Eliza Libby Betsy; Katherine: Kate Kathy Katie
Kat Kitty; James: Jim Jimmy Jamie Jem; Michael: Mike Mikey Mick Mickey; Jennifer: Jen Jenny
Jenna; Margaret: Maggie Peggy Meg Marge Greta Madge; Alexander: Alex Al Sandy Xander Lex; John:
Johnny Jack Jon; Richard: Rick Dick Rich Richie Ricky; Charles: Charlie Chuck Chas Chaz;
Joseph: Joe Joey Jo; Christopher: Chris Kit Topher Christy; Matthew: Matt Matty; Anthony: Tony
Ant; Mark: Marky; Steven: Steve Stevie; Andrew: Andy Drew; Joshua: Josh; Kenneth: Ken Kenny;
Kevin: Kev; George: Georgie Geordie; Edward: Ed Eddie Ted Ned Teddy; Ronald: Ron Ronnie;
Timothy: Tim Timmy; Jason: Jay Jase; Jeffrey: Jeff; Jacob: Jake Jakey; Gary: Gaz; Nicholas:
Nick Nicky Nico; Jonathan: Jon Jonny Nathan; Stephen: Steve Stevie; Scott: Scotty; Benjamin:
Ben Benny Benji; Samuel: Sam Sammy; Gregory: Greg; Frank: Frankie; Raymond: Ray; Jack: Jackie;
Dennis: Denny; Tyler: Ty; Henry: Hank Harry Hal; Douglas: Doug Dougie; Peter: Pete; Zachary:
Zach Zack; Walter: Walt Wally; Harold: Harry Hal; Jeremy: Jerry Jez; Roger: Rog; Jesse: Jess;
Albert: Al Bert Bertie; Jordan: Jordy; Alan: Al; Eugene: Gene; Russell: Russ; Philip: Phil Pip;
Bradley: Brad; Mary: Molly Polly Mae Mamie; Patricia: Pat Patty Trish Tricia; Linda: Lindy Lin;
Barbara: Barb Babs Barbie; Susan: Sue Susie Suzy; Jessica: Jess Jessie; Nancy: Nan; Dorothy:
Dot Dottie Dolly; Sandra: Sandy Sandi; Ashley: Ash; Kimberly: Kim Kimmy; Emily: Em Emmy Emmie;
Michelle: Shelly Mich; Carol: Caz; Amanda: Mandy Manda; Melissa: Mel Missy Lissa; Deborah: Deb
Debbie; Rebecca: Becky Becca Bex; Cynthia: Cindy; Kathleen: Kathy Kath; Shirley: Shirl; Angela:
Angie; Helen: Nell Nellie; Anna: Annie; Pamela: Pam; Samantha: Sam Sammy; Rachel: Rach; Carolyn:
Carrie Lyn; Janet: Jan; Diane: Di; Victoria: Vicky Tori Vic; Christina: Tina Chrissy; Joan:
Joanie; Evelyn: Evie Eve; Lauren: Laurie; Judith: Judy Jude; Olivia: Liv Livvy Ollie; Martha:
Mattie; Megan: Meg; Andrea: Andie; Jacqueline: Jackie Jacqui; Kathryn: Kate Kathy Katie; Gloria:
Glo; Teresa: Terry Tess Tessa; Madison: Maddie Maddy; Grace: Gracie; Theresa: Terry Tess Tessa;
Beverly: Bev; Denise: Dee; Danielle: Dani Elle; Abigail: Abby Gail; Natalie: Nat Nattie; Sophia:
Sophie Sophy; Jane: Janey Jenny; Hans: Hansi; Günter: Günni; Klaus: Klausi; Wolfgang: Wolf
Wolfi; Dieter: Didi; Horst: Horsti; Manfred: Manni Fred; Gerhard: Gerd Gert; Karl: Kalle Karli;
Heinz: Heinzi; Stefan: Steff Stefi; Andreas: Andi Andy Anderl; Matthias: Matze Hias Matti;
Tobias: Tobi; Lukas: Luki Luke; Jonas: Joni; Maximilian: Max Maxi Milan; Moritz: Mo Moe;
Niklas: Nick Niki; Ursula: Uschi Ulla; Gisela: Gisi; Renate: Reni; Ingrid: Inge; Monika: Moni;
Sabine: Bine Sabi; Claudia: Claudi; Susanne: Susi Sanne; Birgit: Biggi Gitte; Katrin: Kati
Trine; Lena: Leni; Leonie: Leo Leni; Käthe: Käthchen; Friedrich: Fritz Friedel Fred; Wilhelm:
Willi Wim Helm; Heinrich: Heinz Hein Heini; Rüdiger: Rudi; José: Pepe Pepito Chepe; Juan:
Juanito Juancho; Antonio: Toño Toni Antoñito; Manuel: Manolo Manu Lolo; Francisco: Paco Pancho
Curro Frasco Quico; Javier: Javi; Carlos: Carlitos Charly; Miguel: Migue Miguelito; Alejandro:
Álex Jandro Alejo; Rafael: Rafa Rafi; Pedro: Perico Pedrito; Ángel: Angelito; Pablo: Pablito;
Sergio: Checo; Fernando: Nando Fer Fercho; Jorge: Coque; Luis: Lucho Luisito; Alberto: Beto
Tito; Álvaro: Alvarito; Diego: Dieguito; Adrián: Adri; Andrés: Andresito; Joaquín: Quino Ximo;
Ramón: Moncho Mon; Enrique: Quique Kike; Víctor: Vitín Vic; Jesús: Chucho Chuy Chus; Ignacio:
Nacho Iñaki; Gonzalo: Gonza Chalo; Mateo: Teo; Santiago: Santi Yago; María: Mari Maruja
Mariquita; Carmen: Carmencita Menchu Mamen; Ana: Anita; Isabel: Isa Chabela Belita; Lucía: Lu
Luci; Cristina: Cris Tina; Paula: Pau; Elena: Nena Lena; Pilar: Pili Pilarín; Raquel: Quela;
Rocío: Ro Chío; Beatriz: Bea Betty; Silvia: Silvi; Natalia: Nati Naty; Mónica: Moni; Sofía:
Sofi; Valentina: Vale Tina; Martina: Marti Tina; Julia: Juli; Irene: Ire; Noelia: Noe; Ángela:
Angie; Verónica: Vero; Begoña: Bego; Ximena: Xime; Dolores: Lola Loli; Mercedes: Merche Meche;
Emmanuel: Manu Manou
"""


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for entry in " ".join(text.split()).split(";"):
        name, _, nicknames = entry.partition(":")
        forms = dict.fromkeys(n for n in nicknames.split() if n != name.strip())
        table[name.strip()] = tuple(forms)
    return table


EXTENDED_NICKNAMES = _parse(_TABLE)
